"""Soft deletes for the dimensions: rows a complete listing no longer returned are marked, not dropped.

dlt's merge re-stamps `_dlt_load_id` on every row it writes, so after a full, successful listing
the rows still carrying an older load id are exactly the ones the API stopped returning.
"""

from __future__ import annotations

from datetime import datetime, timezone

from lms_assets.warehouse.sql import load_ids_sql, timestamp_sql


def mark_deleted(client, table: str, load_ids: list[str]) -> int:
    """Mark rows of `lms.<table>` not written by `load_ids` as deleted; returns how many were newly marked."""
    ids = load_ids_sql(load_ids)
    if ids == "NULL":
        return 0
    where = f"_dlt_load_id NOT IN ({ids}) AND (is_deleted IS NULL OR is_deleted = FALSE)"
    with client.begin_transaction():
        count = client.execute_sql(f"SELECT COUNT(*) FROM lms.{table} WHERE {where}")[0][0]
        if count:
            client.execute_sql(
                f"UPDATE lms.{table} SET is_deleted = TRUE, deleted_at = {timestamp_sql(datetime.now(timezone.utc))} "
                f"WHERE {where}")
    return int(count)
