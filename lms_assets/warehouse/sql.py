"""SQL fragments both DuckDB and PostgreSQL read the same; values are ours, never user text."""

from __future__ import annotations

from datetime import datetime


def utc_day_sql(column: str) -> str:
    """The UTC calendar day of a timestamptz column, whatever the session's time zone."""
    return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"


def timestamp_sql(value: datetime) -> str:
    """A timestamptz literal."""
    return f"TIMESTAMP WITH TIME ZONE '{value.isoformat()}'"


def window_sql(column: str, start: datetime, end: datetime) -> str:
    """`column` inside the half-open window [start, end): the one predicate every window query uses."""
    return f"{column} >= {timestamp_sql(start)} AND {column} < {timestamp_sql(end)}"


def load_ids_sql(load_ids: list[str]) -> str:
    """dlt load ids as an SQL `IN` list (`NULL` when empty); they are numeric strings, anything else is dropped."""
    return ", ".join(f"'{i}'" for i in load_ids if i.replace(".", "").isdigit()) or "NULL"


def qualified_table_name(client, table: str) -> str:
    """`database.dataset.table` as the destination names it (DuckDB: the file's catalog; PostgreSQL: the database)."""
    database = client.execute_sql("SELECT current_database()")[0][0]
    return f"{database}.{client.fully_qualified_dataset_name(quote=False)}.{table}"
