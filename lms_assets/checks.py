"""Asset checks: what must hold in the warehouse after each load, queried in place."""


from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from lms_assets.partitions import daily_partitions
from lms_assets.settings import unknown_user_warn_share
from lms_assets.warehouse import load_ids_sql, sql_client, timestamp_sql, utc_day_sql

ACTIVITIES = AssetKey(["lms", "activities"])
USERS = AssetKey(["lms", "users"])
CONTENT = AssetKey(["lms", "content"])
DAILY = AssetKey(["lms", "user_activity_daily"])


def _tables(client) -> set[str]:
    schema = client.fully_qualified_dataset_name(quote=False)
    rows = client.execute_sql("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", schema)
    return {r[0] for r in rows}


def _not_loaded(table: str) -> AssetCheckResult:
    # nothing loaded yet (dlt creates a table with its first row): nothing can be wrong
    return AssetCheckResult(passed=True, metadata={"rows": 0, "note": f"lms.{table} holds no rows yet"})


def _ids_check(table: str) -> AssetCheckResult:
    with sql_client() as client:
        if table not in _tables(client):
            return _not_loaded(table)
        total, distinct, nulls = client.execute_sql(
            f"SELECT COUNT(*), COUNT(DISTINCT id), SUM(CASE WHEN id IS NULL THEN 1 ELSE 0 END) FROM lms.{table}")[0]
    duplicates = total - distinct - (nulls or 0)
    return AssetCheckResult(
        passed=duplicates == 0 and not nulls,
        metadata={"rows": int(total), "duplicate_ids": int(max(duplicates, 0)), "null_ids": int(nulls or 0)},
    )


@asset_check(asset=ACTIVITIES, description="Every activity id appears once.")
def activities_ids_unique(context: AssetCheckExecutionContext) -> AssetCheckResult:
    return _ids_check("activities")


@asset_check(asset=USERS, description="User ids are present and unique.")
def users_ids_unique_not_null(context: AssetCheckExecutionContext) -> AssetCheckResult:
    return _ids_check("users")


@asset_check(asset=CONTENT, description="Content ids are present and unique.")
def content_ids_unique_not_null(context: AssetCheckExecutionContext) -> AssetCheckResult:
    return _ids_check("content")


@asset_check(
    asset=ACTIVITIES,
    partitions_def=daily_partitions,
    description="The rows of the latest activities load all have a date inside the window that was loaded.",
)
def activities_date_in_window(context: AssetCheckExecutionContext) -> AssetCheckResult:
    window = context.partition_time_window
    # the rows this run wrote carry its dlt load ids: a merge re-stamps every row it writes
    event = context.instance.get_latest_materialization_event(ACTIVITIES)
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    load_ids = [i for i in str(meta["dlt_load_ids"].value).split(",") if i] if "dlt_load_ids" in meta else []
    with sql_client() as client:
        if "activities" not in _tables(client):
            return _not_loaded("activities")
        outside, missing, rows = client.execute_sql(f"""
            SELECT SUM(CASE WHEN date < {timestamp_sql(window.start)} OR date >= {timestamp_sql(window.end)} THEN 1 ELSE 0 END),
                   SUM(CASE WHEN date IS NULL THEN 1 ELSE 0 END),
                   COUNT(*)
            FROM lms.activities
            WHERE _dlt_load_id IN ({load_ids_sql(load_ids)})
        """)[0]
    return AssetCheckResult(
        passed=not outside and not missing,
        metadata={"window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
                  "dlt_load_ids": ",".join(load_ids), "rows_checked": int(rows or 0), "null_dates": int(missing or 0),
                  "dates_outside_window": int(outside or 0)},
    )


@asset_check(
    asset=ACTIVITIES,
    description="Share of activities whose user is not in `users` (null users are not counted).",
)
def activities_unknown_users(context: AssetCheckExecutionContext) -> AssetCheckResult:
    with sql_client() as client:
        tables = _tables(client)
        if "activities" not in tables:
            return _not_loaded("activities")
        if "users" not in tables:
            return AssetCheckResult(
                passed=False, severity=AssetCheckSeverity.WARN,
                description="lms/users has not been loaded yet: materialize lms/users, then re-run this check.",
            )
        unknown, total = client.execute_sql("""
            SELECT SUM(CASE WHEN a."user" IS NOT NULL AND u.id IS NULL THEN 1 ELSE 0 END), COUNT(*)
            FROM lms.activities a LEFT JOIN lms.users u ON u.id = a."user"
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


@asset_check(
    asset=DAILY,
    description="sum(activity_count) equals the known-user activities of the days the table covers.",
)
def daily_counts_match_activities(context: AssetCheckExecutionContext) -> AssetCheckResult:
    day = utc_day_sql("a.date")
    with sql_client() as client:
        if not {"activities", "user_activity_daily"} <= _tables(client):
            return _not_loaded("user_activity_daily")
        summed = client.execute_sql("SELECT COALESCE(SUM(activity_count), 0) FROM lms.user_activity_daily")[0][0]
        covered = client.execute_sql(f"""
            SELECT COUNT(*) FROM lms.activities a
            WHERE a."user" IS NOT NULL
              AND {day} IN (SELECT DISTINCT activity_date FROM lms.user_activity_daily)""")[0][0]
    return AssetCheckResult(passed=int(summed) == int(covered),
                            metadata={"sum_activity_count": int(summed), "activities_covered": int(covered)})


def _variant_check(table: str):
    @asset_check(
        asset=AssetKey(["lms", table]),
        name=f"{table}_no_variant_columns",
        description=(f"No column of lms.{table} changed type: dlt would park such values in a variant "
                     "column (`<name>__v_<type>`); the source's schema contract refuses them, this proves it."),
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        with sql_client() as client:
            schema = client.fully_qualified_dataset_name(quote=False)
            variants = [r[0] for r in client.execute_sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "AND STRPOS(column_name, '__v_') > 0", schema, table)]
        return AssetCheckResult(passed=not variants, metadata={"variant_columns": ", ".join(variants) or "none"})

    return _check


ALL_CHECKS = [
    activities_ids_unique,
    activities_date_in_window,
    activities_unknown_users,
    users_ids_unique_not_null,
    content_ids_unique_not_null,
    daily_counts_match_activities,
    *(_variant_check(t) for t in ("content", "users", "activities")),
]
