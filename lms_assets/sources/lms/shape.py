"""Records as they land: soft-delete flags, numbers as numbers, and a guard against type changes.

dlt would take care of most shapes, but two of the real API's habits defeat it: a number written
`0` on the first records and `0.85` later (dlt types the column bigint, then parks the fraction
in a variant column that the frozen schema contract refuses), and an object arriving in a text
column (dlt silently serializes it to JSON text). The first is widened here, the second refused.
"""

from __future__ import annotations

from typing import Any

from lms_assets.sources.lms.errors import LmsResponseError


def _kind(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return "a scalar"


class RecordShaper:
    """Shapes the records of one resource for one run.

    Documented text fields must not carry objects; an undocumented field must keep to the kind
    (scalar or nested) it first arrived as. Undocumented whole numbers become floats, so the
    column dlt infers is `double` from the first record on.
    """

    def __init__(self, resource: str, fields: dict[str, str], soft_deletes: bool = False,
                 deleted_flag: str | None = "deleted", deleted_at: str = "updatedAt"):
        self.resource = resource
        self.fields = fields
        self.soft_deletes = soft_deletes
        self.deleted_flag, self.deleted_at = deleted_flag, deleted_at  # the API's flag (None: it has none)
        self.seen: dict[str, str] = {}  # undocumented field -> "nested" | "scalar"

    def __call__(self, record: dict) -> dict:
        for name, value in record.items():
            if value is None:
                continue
            declared = self.fields.get(name)
            nested = isinstance(value, (dict, list))
            if declared is not None:
                if nested and declared not in ("json",):
                    self._refuse(record, name, value, f"the API documents it as {declared}")
                continue
            kind = "nested" if nested else "scalar"
            first = self.seen.setdefault(name, kind)
            if first != kind:
                self._refuse(record, name, value, f"earlier records carried {'objects' if first == 'nested' else 'scalars'}")
            if type(value) is int:  # not bool: a JSON number of an undocumented field lands as double
                record[name] = float(value)
        if self.soft_deletes:
            deleted = self.deleted_flag is not None and record.get(self.deleted_flag) is True
            record["is_deleted"] = deleted
            # the API stamps updatedAt (or deletedAt) when it deletes; the refresh stamps rows it stops listing
            record["deleted_at"] = record.get(self.deleted_at) if deleted else None
        return record

    def _refuse(self, record: dict, name: str, value: Any, why: str) -> None:
        raise LmsResponseError(
            f"Field {name!r} of {self.resource} record {record.get('id')!r} arrived as {_kind(value)} "
            f"({str(value)[:60]}) where {why}; nothing was loaded for this resource. The LMS API's schema "
            "changed: report it to the API's owner, or adapt the field's type in lms_assets/sources/lms/settings.py."
        )
