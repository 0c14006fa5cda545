"""Activity records as Arrow tables, typed as the API's documented fields say.

Our own code because dlt's Arrow path needs the table built by the producer; building it by
column from the known fields is several times faster than `pa.Table.from_pylist`, which would
also turn `data` (keys vary by activity type) into a struct instead of a JSON column.
"""

from __future__ import annotations

import logging
from operator import attrgetter

import orjson
import pyarrow as pa

from lms_assets.sources.lms.activity_records import ActivityRecord, raw_json
from lms_assets.sources.lms.errors import LmsResponseError
from lms_assets.sources.lms.settings import ACTIVITIES_FIELDS, column_name


class _KeptHintsNotice(logging.Filter):
    """Drop dlt's warning that our column hints win over the Arrow types.

    That is the intent: Arrow has no JSON type, so `data` travels as a string and dlt's `json`
    hint makes it a JSON column; the warning would be repeated for every batch of every run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "several column hints were different" not in record.getMessage()


_NOTICE = _KeptHintsNotice()


def quiet_kept_hints_notice() -> None:
    """Install the filter on dlt's logger (once; called when a source is built, not at import)."""
    logger = logging.getLogger("dlt")
    if _NOTICE not in logger.filters:
        logger.addFilter(_NOTICE)


_TEXT = {f: column_name(f) for f, t in ACTIVITIES_FIELDS.items() if t == "text"}
_JSON = {f: column_name(f) for f, t in ACTIVITIES_FIELDS.items() if t == "json"}


def _json(value) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _text(field: str, values: list, records: list[dict]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    for record, value in zip(records, values, strict=True):
        if isinstance(value, (dict, list)):
            raise LmsResponseError(
                f"Field {field!r} of activity {record.get('id')!r} arrived as an object ({str(value)[:60]}) where "
                "the API documents text; nothing was loaded for this window. The LMS API's schema changed: report "
                "it to the API's owner, or adapt the field's type in lms_assets/sources/lms/settings.py."
            )
    # numbers or booleans where text is documented: kept as their JSON text, as dlt does for rows
    return pa.array([v if v is None or isinstance(v, str) else orjson.dumps(v).decode() for v in values], pa.string())


def _extra(values: list) -> pa.Array:
    """An undocumented field: nested values as JSON text, whole numbers as floats (see shape.py)."""
    if any(isinstance(v, (dict, list)) for v in values):
        return pa.array([_json(v) for v in values], pa.string())
    if any(type(v) is int for v in values):
        values = [float(v) if type(v) is int else v for v in values]
    return pa.array(values)


def activities_table(records: list) -> pa.Table:
    """`date` must already be an aware datetime; fields the API adds later become columns too.

    `records` are dicts, or records of one type decoded by activity_records.py: the same columns either way."""
    if records and isinstance(records[0], ActivityRecord):
        return _decoded_table(records)
    columns: dict[str, pa.Array] = {
        name: _text(field, [r.get(field) for r in records], records) for field, name in _TEXT.items()
    }
    columns["date"] = pa.array([r["date"] for r in records], pa.timestamp("us", tz="UTC"))
    for field, name in _JSON.items():
        columns[name] = pa.array([_json(r.get(field)) for r in records], pa.string())
    extra = set().union(*(r.keys() for r in records)) - ACTIVITIES_FIELDS.keys()
    for field in sorted(extra):
        columns[column_name(field)] = _extra([r.get(field) for r in records])
    return pa.table(columns)


def _decoded_table(records: list) -> pa.Table:
    cls = type(records[0])

    def values(field: str) -> list:
        return list(map(attrgetter(cls.ATTRS[field]), records))

    columns: dict[str, pa.Array] = {name: pa.array(values(field), pa.string()) for field, name in _TEXT.items()}
    columns["date"] = pa.array(values("date"), pa.timestamp("us", tz="UTC"))
    for field, name in _JSON.items():
        columns[name] = pa.array([raw_json(v) for v in values(field)], pa.binary()).cast(pa.string())
    for field in sorted(cls.EXTRAS):
        raws = values(field)
        if any(raws):  # carried by a record of the batch, if only as null: a column, as for dicts
            columns[column_name(field)] = _extra([orjson.loads(bytes(v)) if v else None for v in raws])
    return pa.table(columns)
