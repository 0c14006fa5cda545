"""`lms._lms_windows`: the load log, one row per committed slice of a load.

dlt commits a load package whole but has no checkpoint inside an extract (dlt issue 215), so a
range run commits in slices of whole days and writes a row here in the same lock, right after
each slice's load. The log is what a retry reads to skip what its parent run committed, and what
an operator reads to see what has been loaded (docs/reference.md "Guarantees").

dlt gives no transaction spanning a package's tables and a table of ours, so the row is written
twice (issue #38): before the load as an intent in `_lms_windows_pending`, naming the package's
load id, and after it here. A process killed between dlt's commit (`_dlt_loads`) and the row
here leaves the intent, which the next load promotes (`promote_committed`): no committed day is
missing from the log, and an intent whose load never completed is never read as committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from lms_assets.warehouse.sql import timestamp_sql

TABLE = "_lms_windows"
PENDING = "_lms_windows_pending"
_FIELDS = "resource, window_start, window_end, rows, api_total, load_id, run_id, root_run_id"
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


def _table(client: Any, name: str = TABLE) -> str:
    return client.make_qualified_table_name(name)


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


def _values(entry: Committed) -> str:
    return (f"{_text(entry.resource)}, {_instant(entry.window_start)}, {_instant(entry.window_end)}, {_number(entry.rows)}, "
            f"{_number(entry.api_total)}, {_text(entry.load_id)}, {_text(entry.run_id)}, {_text(entry.root_run_id)}")


def _same_slice(entry: Committed) -> str:
    return (f"resource = {_text(entry.resource)} AND load_id = {_text(entry.load_id)} "
            f"AND window_start IS NOT DISTINCT FROM {_instant(entry.window_start)}")


def intend(client: Any, entry: Committed) -> None:
    """Before its load: `entry` (rows as normalized) under the load id its package will commit as."""
    client.execute_sql(f"CREATE TABLE IF NOT EXISTS {_table(client, PENDING)} ({_COLUMNS})")
    client.execute_sql(f"DELETE FROM {_table(client, PENDING)} WHERE {_same_slice(entry)}")
    client.execute_sql(f"INSERT INTO {_table(client, PENDING)} VALUES ({_values(entry)}, {_instant(datetime.now(timezone.utc))})")


def record(client: Any, entry: Committed) -> None:
    """After its load: `entry` as committed, once; the caller holds the warehouse lock the load held."""
    client.execute_sql(f"CREATE TABLE IF NOT EXISTS {_table(client)} ({_COLUMNS})")
    client.execute_sql(f"DELETE FROM {_table(client)} WHERE {_same_slice(entry)}")
    client.execute_sql(f"INSERT INTO {_table(client)} VALUES ({_values(entry)}, {_instant(datetime.now(timezone.utc))})")
    try:
        client.execute_sql(f"DELETE FROM {_table(client, PENDING)} WHERE {_same_slice(entry)}")
    except DatabaseUndefinedRelation:
        pass


def promote_committed(client: Any) -> None:
    """Log the intents whose package dlt committed (`_dlt_loads`) while the row here was never written."""
    loads = client.make_qualified_table_name("_dlt_loads")
    try:
        if not client.execute_sql(f"SELECT COUNT(*) FROM {_table(client, PENDING)}")[0][0]:
            return
        client.execute_sql(f"CREATE TABLE IF NOT EXISTS {_table(client)} ({_COLUMNS})")
        client.execute_sql(
            f"INSERT INTO {_table(client)} SELECT {_FIELDS}, committed_at FROM {_table(client, PENDING)} p "
            f"WHERE p.load_id IN (SELECT load_id FROM {loads} WHERE status = 0) AND NOT EXISTS (SELECT 1 FROM "
            f"{_table(client)} w WHERE w.resource = p.resource AND w.load_id = p.load_id "
            "AND w.window_start IS NOT DISTINCT FROM p.window_start)")
        client.execute_sql(f"DELETE FROM {_table(client, PENDING)} WHERE load_id IN (SELECT load_id FROM {loads})")
    except DatabaseUndefinedRelation:  # nothing intended yet, or nothing loaded
        return


def committed_windows(client: Any, resource: str, root_run_id: str) -> list[tuple[datetime, datetime]]:
    """The windows of `resource` committed by the runs of one retry family (same root run)."""
    promote_committed(client)
    try:
        rows = client.execute_sql(
            f"SELECT window_start, window_end FROM {_table(client)} WHERE resource = {_text(resource)} "
            f"AND root_run_id = {_text(root_run_id)} AND window_start IS NOT NULL")
    except DatabaseUndefinedRelation:  # no log yet: nothing committed
        return []
    return [(_utc(a), _utc(b)) for a, b in rows or []]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
