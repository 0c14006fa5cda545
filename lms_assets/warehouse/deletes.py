"""Soft deletes for the dimensions: rows a complete listing no longer returned are marked, not dropped.

dlt's merge re-stamps `_dlt_load_id` on every row it writes, so after a full, successful listing
the rows still carrying an older load id are exactly the ones the API stopped returning.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from lms_assets.warehouse.sql import load_ids_sql, timestamp_sql


def mark_deleted(client, table: str, load_ids: list[str], vanished: Iterable[str] = ()) -> int:
    """Mark rows of `<table>` (in the client's dataset) not written by `load_ids`, and the `vanished` ids (written by them from a read
    abandoned because the listing moved, absent from the complete read), as deleted; returns how many were newly marked."""
    ids = load_ids_sql(load_ids)
    if ids == "NULL":
        return 0
    gone = sorted(str(i) for i in vanished)
    # the ids are the API's text: passed as parameters, never spliced into the SQL
    either = f"_dlt_load_id NOT IN ({ids})" + (f" OR id IN ({', '.join(['%s'] * len(gone))})" if gone else "")
    where = f"({either}) AND (is_deleted IS NULL OR is_deleted = FALSE)"
    with client.begin_transaction():
        count = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name(table)} WHERE {where}", *gone)[0][0]
        if count:
            client.execute_sql(
                f"UPDATE {client.make_qualified_table_name(table)} SET is_deleted = TRUE, deleted_at = {timestamp_sql(datetime.now(timezone.utc))} "
                f"WHERE {where}", *gone)
    return int(count)
