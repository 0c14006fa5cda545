"""`lms._lms_windows`: the load log, one row per committed slice of a load.

dlt commits a load package whole but has no checkpoint inside an extract (dlt issue 215), so a
range run commits in slices of whole days and writes a row here in the same lock, right after
each slice's load. The log is what a retry reads to skip what its parent run committed, and what
an operator reads to see what has been loaded (README "Guarantees").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from lms_assets.warehouse.sql import timestamp_sql

TABLE = "_lms_windows"
_COLUMNS = (
    "resource VARCHAR NOT NULL, window_start TIMESTAMP WITH TIME ZONE, window_end TIMESTAMP WITH TIME ZONE, "
    "rows BIGINT NOT NULL, api_total BIGINT, load_id VARCHAR, run_id VARCHAR, root_run_id VARCHAR, "
    "committed_at TIMESTAMP WITH TIME ZONE NOT NULL"
)


@dataclass(frozen=True)
class Committed:
    """One committed slice: `rows` in the warehouse for its window (all rows, for a dimension), and the
    API's `totalResults` for the bounds asked when the API sent one (a window's bounds are a second wider;
    summed over the listings it was read in, when its first days were read ahead: read_ahead.py)."""

    resource: str
    window_start: Optional[datetime]
    window_end: Optional[datetime]
    rows: int
    api_total: Optional[int]
    load_id: Optional[str]
    run_id: Optional[str]
    root_run_id: Optional[str]


def _table(client: Any) -> str:
    return client.make_qualified_table_name(TABLE)


def _text(value: Optional[str]) -> str:
    # Values are ours (dlt load ids, Dagster run ids: hex, digits, dots and dashes), never API text.
    if value is None:
        return "NULL"
    if not all(c.isalnum() or c in ".-_" for c in value):
        raise ValueError(f"unexpected characters in {value!r}")
    return f"'{value}'"


def _number(value: Optional[int]) -> str:
    return "NULL" if value is None else str(int(value))


def _instant(value: Optional[datetime]) -> str:
    return "NULL" if value is None else timestamp_sql(value)


def record(client: Any, entry: Committed) -> None:
    """Append `entry`; the caller holds the warehouse lock the load held."""
    client.execute_sql(f"CREATE TABLE IF NOT EXISTS {_table(client)} ({_COLUMNS})")
    client.execute_sql(
        f"INSERT INTO {_table(client)} VALUES ({_text(entry.resource)}, {_instant(entry.window_start)}, "
        f"{_instant(entry.window_end)}, {_number(entry.rows)}, {_number(entry.api_total)}, {_text(entry.load_id)}, "
        f"{_text(entry.run_id)}, {_text(entry.root_run_id)}, {_instant(datetime.now(timezone.utc))})")


def committed_windows(client: Any, resource: str, root_run_id: str) -> list[tuple[datetime, datetime]]:
    """The windows of `resource` committed by the runs of one retry family (same root run)."""
    try:
        rows = client.execute_sql(
            f"SELECT window_start, window_end FROM {_table(client)} WHERE resource = {_text(resource)} "
            f"AND root_run_id = {_text(root_run_id)} AND window_start IS NOT NULL")
    except DatabaseUndefinedRelation:  # no log yet: nothing committed
        return []
    return [(_utc(a), _utc(b)) for a, b in rows or []]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
