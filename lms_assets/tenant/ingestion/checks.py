"""Checks of the loaded tables: ids, the window of each load, unknown users, no variant columns."""


from datetime import datetime
from typing import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetRecordsFilter,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from lms_assets.tenant.config import unknown_user_warn_share
from lms_assets.tenant.partitions import partitions_for
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import load_ids_sql, window_sql


def tables(client) -> set[str]:
    schema = client.fully_qualified_dataset_name(quote=False)
    rows = client.execute_sql("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", schema)
    return {r[0] for r in rows}


def not_loaded(table: str) -> AssetCheckResult:
    # nothing loaded yet (dlt creates a table with its first row): nothing can be wrong
    return AssetCheckResult(passed=True, metadata={"rows": 0, "note": f"{table} holds no rows yet"})


def _ids_check(client, present: set[str], table: str) -> AssetCheckResult:
    if table not in present:
        return not_loaded(table)
    total, distinct, nulls = client.execute_sql(
        f"SELECT COUNT(*), COUNT(DISTINCT id), SUM(CASE WHEN id IS NULL THEN 1 ELSE 0 END) FROM {client.make_qualified_table_name(table)}")[0]
    duplicates = total - distinct - (nulls or 0)
    return AssetCheckResult(
        passed=duplicates == 0 and not nulls,
        metadata={"rows": int(total), "duplicate_ids": int(max(duplicates, 0)), "null_ids": int(nulls or 0)},
    )


def _latest_loads(context: AssetCheckExecutionContext, asset_key) -> dict[tuple[str, str], set[str]]:
    """{(window start, window end): dlt load ids} of the latest materialization of each checked partition."""
    # Newest first, a page at a time, until every partition has its latest: a range run's own events
    # come first, so a year's backfill costs a query or two, not one per day.
    wanted, latest, cursor = set(context.partition_keys), {}, None
    while wanted - latest.keys():
        page = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=asset_key, asset_partitions=sorted(wanted - latest.keys())),
            limit=1000, cursor=cursor)
        for record in page.records:
            latest.setdefault(record.partition_key, record)
        if not page.has_more:
            break
        cursor = page.cursor
    loads: dict[tuple[str, str], set[str]] = {}
    for record in latest.values():
        meta = record.asset_materialization.metadata if record.asset_materialization else {}
        if {"dlt_load_ids", "window_start", "window_end"} <= meta.keys():
            window = (str(meta["window_start"].value), str(meta["window_end"].value))
            loads.setdefault(window, set()).update(i for i in str(meta["dlt_load_ids"].value).split(",") if i)
    return loads


def _unknown_users(client, present: set[str]) -> AssetCheckResult:
    if "activities" not in present:
        return not_loaded("activities")
    if "users" not in present:
        return AssetCheckResult(
            passed=False, severity=AssetCheckSeverity.WARN,
            description="The users have not been loaded yet: materialize them, then re-run this check.",
        )
    unknown, total = client.execute_sql(f"""
        SELECT SUM(CASE WHEN a."user" IS NOT NULL AND u.id IS NULL THEN 1 ELSE 0 END), COUNT(*)
        FROM {client.make_qualified_table_name("activities")} a LEFT JOIN {client.make_qualified_table_name("users")} u ON u.id = a."user"
    """)[0]
    unknown = int(unknown or 0)
    share = unknown / total if total else 0.0
    limit = unknown_user_warn_share()
    return AssetCheckResult(
        passed=share <= limit,
        severity=AssetCheckSeverity.WARN,
        metadata={"unknown_user_activities": unknown, "activities": int(total),
                  "share": MetadataValue.float(round(share, 6)), "warn_above_share": limit},
    )


def _variants(client, present: set[str], table: str) -> AssetCheckResult:
    schema = client.fully_qualified_dataset_name(quote=False)
    variants = [r[0] for r in client.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND STRPOS(column_name, '__v_') > 0", schema, table)]
    return AssetCheckResult(passed=not variants, metadata={"variant_columns": ", ".join(variants) or "none"})


def _variant_description(table: str) -> str:
    return (f"No column of {table} changed type: dlt would park such values in a variant "
            "column (`<name>__v_<type>`); the source's schema contract refuses them, this proves it.")


EMAIL_DESCRIPTION = (
    "With the email hashed or dropped by the tenant's personal-data policy (sources.<section>.pii), no value in any "
    "text column of any table or model of the tenant's dataset looks like an email address.")


def _email_counts(client, table: str, columns: list[str]) -> dict[str, int]:
    """{table.column: values that look like an email}, one scan of the table; counts only, no value is copied."""
    sums = ", ".join(f"SUM(CASE WHEN \"{c}\" LIKE '%_@_%._%' THEN 1 ELSE 0 END)" for c in columns)
    counts = client.execute_sql(f"SELECT {sums} FROM {client.make_qualified_table_name(table)}")[0]
    return {f"{table}.{c}": int(n) for c, n in zip(columns, counts, strict=True) if n}


def _no_email_addresses(tenant: Tenant, client, present: set[str]) -> AssetCheckResult:
    policies = tenant.pii_policy(require_key=False).kind_policies("email")
    if set(policies.values()) == {"keep"}:
        return AssetCheckResult(passed=True, metadata={"email_policy": "keep", "note": "emails are kept: nothing to check"})
    text_columns: dict[str, list[str]] = {}
    for table, column in client.execute_sql(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND lower(data_type) IN ('varchar', 'text', 'character varying') ORDER BY table_name, ordinal_position",
            client.fully_qualified_dataset_name(quote=False)):
        if not table.startswith("_dlt_"):
            text_columns.setdefault(table, []).append(column)
    found: dict[str, int] = {}
    for table, columns in text_columns.items():
        found.update(_email_counts(client, table, columns))
    where = ", ".join(f"{name} ({n})" for name, n in found.items())
    return AssetCheckResult(
        passed=not found,
        description=f"Values that look like an email address remain in {where}: re-sync those tables under the policy." if found else None,
        metadata={"email_policy": MetadataValue.json(policies), "tables_checked": len(text_columns),
                  "text_columns_checked": sum(len(c) for c in text_columns.values()),
                  "values_like_an_email": MetadataValue.json(found)})


# The unpartitioned checks of each multi-asset run as one step on one warehouse connection: a step
# per check cost ~80 ms each of Dagster bookkeeping and a fresh connection (issue #12's fixed cost).
# Each keeps its own name, so the UI, the tests and the check history see the same checks.
# name: (table, description, the check on (client, tables present))
_CHECKS = {
    "activities_ids_unique": ("activities", "Every activity id appears once.",
                              lambda t, c, p: _ids_check(c, p, "activities")),
    "activities_unknown_users": ("activities", "Share of activities whose user is not in `users` (null users are not "
                                 "counted).", lambda t, c, p: _unknown_users(c, p)),
    "activities_no_variant_columns": ("activities", _variant_description("activities"),
                                      lambda t, c, p: _variants(c, p, "activities")),
    "users_ids_unique_not_null": ("users", "User ids are present and unique.", lambda t, c, p: _ids_check(c, p, "users")),
    "content_ids_unique_not_null": ("content", "Content ids are present and unique.",
                                    lambda t, c, p: _ids_check(c, p, "content")),
    "users_no_email_addresses": ("users", EMAIL_DESCRIPTION, _no_email_addresses),
    "users_no_variant_columns": ("users", _variant_description("users"), lambda t, c, p: _variants(c, p, "users")),
    "content_no_variant_columns": ("content", _variant_description("content"), lambda t, c, p: _variants(c, p, "content")),
}


def build_checks(tenant: Tenant) -> list:
    """The checks of a tenant's loaded tables, on its own dataset."""

    def specs(*tables: str) -> list[AssetCheckSpec]:
        return [AssetCheckSpec(name, asset=tenant.key(t), description=d) for name, (t, d, _) in _CHECKS.items() if t in tables]

    def run_selected(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[AssetCheckResult]:
        keys = sorted(context.selected_asset_check_keys, key=lambda k: k.name)

        def evaluate(client) -> list:
            present = tables(client)
            return [(key, _CHECKS[key.name][2](tenant, client, present)) for key in keys]

        for key, result in warehouse.get(tenant.dataset).read(evaluate):
            yield AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=result.passed,
                                   severity=result.severity, metadata=result.metadata, description=result.description)

    @multi_asset_check(name=tenant.name("activities_checks"), specs=specs("activities"), can_subset=True)
    def activities_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[AssetCheckResult]:
        yield from run_selected(context, warehouse)

    @multi_asset_check(name=tenant.name("dimensions_checks"), specs=specs("content", "users"), can_subset=True)
    def dimensions_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[AssetCheckResult]:
        yield from run_selected(context, warehouse)

    @asset_check(
        asset=tenant.key("activities"),
        partitions_def=partitions_for(tenant),
        name="activities_date_in_window",
        description="The rows of the latest load of each checked partition all have a date inside the window that load asked for.",
    )
    def activities_date_in_window(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        loads = _latest_loads(context, tenant.key("activities"))  # scoped to this check's partitions, not the asset's latest run

        def count(client) -> tuple[int, int, int] | None:
            if "activities" not in tables(client):
                return None
            outside = missing = rows = 0
            for (start, end), load_ids in loads.items():
                inside = window_sql("date", datetime.fromisoformat(start), datetime.fromisoformat(end))
                o, m, n = client.execute_sql(f"""
                    SELECT SUM(CASE WHEN NOT ({inside}) THEN 1 ELSE 0 END),
                           SUM(CASE WHEN date IS NULL THEN 1 ELSE 0 END), COUNT(*)
                    FROM {client.make_qualified_table_name("activities")} WHERE _dlt_load_id IN ({load_ids_sql(sorted(load_ids))})""")[0]
                outside, missing, rows = outside + int(o or 0), missing + int(m or 0), rows + int(n or 0)
            return outside, missing, rows

        counted = warehouse.get(tenant.dataset).read(count)
        if counted is None:
            return not_loaded("activities")
        outside, missing, rows = counted
        window = context.partition_time_window
        return AssetCheckResult(
            passed=not outside and not missing,
            metadata={"window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
                      "loads_checked": ", ".join(f"[{s}, {e}): {','.join(sorted(i))}" for (s, e), i in loads.items()) or "none",
                      "rows_checked": rows, "null_dates": missing, "dates_outside_window": outside},
        )

    return [activities_date_in_window, activities_checks, dimensions_checks]
