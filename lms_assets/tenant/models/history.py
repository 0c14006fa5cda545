"""What the history refuses before dbt touches it, in one sentence naming the record: a version older than
the one stored (the API went back in time), a version without updatedAt, and a day before history began.

dbt's timestamp strategy would skip the first silently and cannot place the second; the third would read
as zeros. Checked here, before the snapshot or the model runs, so nothing is committed.
"""

from __future__ import annotations

from datetime import datetime, timezone

from dagster import Failure

from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import Warehouse

# snapshot: the loaded table it records with the API's own instant (updated_at)
API_CLOCK = {"enrolments_history": "enrolments", "assignments_history": "assignments"}


def _tables(client) -> set[str]:
    rows = client.execute_sql("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                              client.fully_qualified_dataset_name(quote=False))
    return {r[0] for r in rows}


def _problem(client, history: str, table: str) -> str | None:
    present = _tables(client)
    if table not in present:
        return None
    t = client.make_qualified_table_name(table)
    missing = client.execute_sql(f"SELECT MIN(id), COUNT(*) FROM {t} WHERE updated_at IS NULL")[0]
    if missing[1]:
        return (f"{table} {missing[0]} has no updatedAt ({missing[1]} record(s) in all): the history places each version at "
                f"its updatedAt; fix the record in the LMS or leave it out, then load {table} again.")
    if history not in present:
        return None
    h = client.make_qualified_table_name(history)
    older = client.execute_sql(
        f"SELECT t.id, t.updated_at, h.dbt_valid_from FROM {t} t JOIN {h} h ON h.id = t.id AND h.dbt_valid_to IS NULL "
        "WHERE t.updated_at < h.dbt_valid_from ORDER BY t.id LIMIT 1")
    if older:
        record, stamp, stored = older[0]
        return (f"{table} {record} came with updatedAt {stamp}, older than the version the history holds ({stored}): the API "
                f"went back in time; nothing was added to {history}. Check the record in the LMS before loading it again.")
    return None


def check_versions(warehouse: Warehouse, tenant: Tenant, selected: set[str]) -> None:
    for history, table in API_CLOCK.items():
        if history in selected:
            problem = warehouse.read(lambda client, h=history, t=table: _problem(client, h, t))
            if problem:
                raise Failure(description=problem, allow_retries=False)


def _history_began(client) -> datetime | None:
    if "enrolments_history" not in _tables(client):
        return None
    h = client.make_qualified_table_name("enrolments_history")
    began = client.execute_sql(f"SELECT MAX(dbt_valid_from) FROM {h} WHERE observed_in_load = (SELECT MIN(observed_in_load) FROM {h})")
    return began[0][0] if began and began[0][0] else None


def check_history_began(warehouse: Warehouse, tenant: Tenant, first_day: str) -> None:
    """History begins on the UTC day of the newest updatedAt the first recorded load brought: the API's own clock,
    the latest instant that load is known to have seen (the machine's clock is not the API's)."""
    began = warehouse.read(_history_began)
    key = tenant.key("assignment_compliance_daily").to_user_string()
    if began is None:
        raise Failure(description=f"{key} has no history yet: load {tenant.key('enrolments').to_user_string()} and materialize "
                                  f"{tenant.key('enrolments_history').to_user_string()} first.", allow_retries=False)
    day = began.astimezone(timezone.utc).date().isoformat()
    if first_day < day:
        raise Failure(description=f"{key} cannot be built for {first_day}: history began on {day} (the first load of enrolments), "
                                  f"so the days before it are unknown; materialize {day} or later.", allow_retries=False)
