"""Activity records as Arrow tables, typed as the API's schema says.

Our own code because dlt's Arrow path needs the table built by the producer; building it by
column from the known fields is several times faster than `pa.Table.from_pylist`, which would
also turn `data` (keys vary by activity type) into a struct instead of a JSON column.
"""

from __future__ import annotations

import logging

import orjson
import pyarrow as pa
from dlt.common.normalizers.naming.snake_case import NamingConvention

_NAMING = NamingConvention()


class _KeptHintsNotice(logging.Filter):
    """Drop dlt's warning that our column hints win over the Arrow types.

    That is the intent: Arrow has no JSON type, so `data` travels as a string and dlt's `json`
    hint makes it a JSON column; the warning would be repeated for every batch of every run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "several column hints were different" not in record.getMessage()


logging.getLogger("dlt").addFilter(_KeptHintsNotice())
_TEXT = {"id": "id", "type": "type", "contentType": "content_type", "contextId": "context_id",
         "contextType": "context_type", "user": "user"}
_KNOWN = {*_TEXT, "date", "data"}


def _json(value) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def activities_table(records: list[dict]) -> pa.Table:
    """`date` must already be an aware datetime; fields the API adds later become columns too."""
    columns: dict[str, pa.Array] = {
        name: pa.array([r.get(field) for r in records], pa.string()) for field, name in _TEXT.items()
    }
    columns["date"] = pa.array([r["date"] for r in records], pa.timestamp("us", tz="UTC"))
    columns["data"] = pa.array([_json(r.get("data")) for r in records], pa.string())
    extra = set().union(*(r.keys() for r in records)) - _KNOWN
    for field in sorted(extra):
        values = [r.get(field) for r in records]
        if any(isinstance(v, (dict, list)) for v in values):
            values = [_json(v) for v in values]
        columns[_NAMING.normalize_identifier(field)] = pa.array(values)
    return pa.table(columns)
