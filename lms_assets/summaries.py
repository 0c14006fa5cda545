"""User-activity summaries, computed in the warehouse with SQL that runs on DuckDB and PostgreSQL.

Both tables are rebuilt in one transaction per run: a reader sees the old rows or the new,
never a half-written window.
"""


from datetime import datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from lms_assets.charts import chart_markdown
from lms_assets.partitions import daily_partitions
from lms_assets.warehouse import sql_client, timestamp_sql, utc_day_sql

GROUP = "lms_summaries"
OWNERS = ["team:data-engineering"]
ACTIVITIES = AssetKey(["lms", "activities"])
USERS = AssetKey(["lms", "users"])

# Follow upstream without a person acting. The daily table is `eager()` without its
# latest-window limit, so a backfilled day propagates too; it still waits for its activity day.
DAILY_AUTOMATION = (
    AutomationCondition.eager().without(AutomationCondition.in_latest_time_window())
).with_label("eager, every day (not only the latest)")
# The user summary reads a history that is never complete (eager() would wait for every
# activity partition forever): it follows any update of users or of any activity day.
SUMMARY_AUTOMATION = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after users or any activity day updates")

DAILY_DDL = """
CREATE TABLE IF NOT EXISTS lms.user_activity_daily (
    user_id TEXT NOT NULL,
    activity_date DATE NOT NULL,
    activity_count BIGINT NOT NULL,
    completed_count BIGINT NOT NULL,
    distinct_contents BIGINT NOT NULL,
    PRIMARY KEY (user_id, activity_date)
)"""

SUMMARY_DDL = """
CREATE TABLE IF NOT EXISTS lms.user_activity_summary (
    user_id TEXT NOT NULL PRIMARY KEY,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    activity_count BIGINT NOT NULL,
    active_days BIGINT NOT NULL,
    first_activity_at TIMESTAMP WITH TIME ZONE,
    last_activity_at TIMESTAMP WITH TIME ZONE,
    last_activity_type TEXT,
    is_deleted BOOLEAN NOT NULL
)"""
# Tables created before `is_deleted` existed gain it (both DuckDB and PostgreSQL know IF NOT EXISTS).
SUMMARY_MIGRATION = "ALTER TABLE lms.user_activity_summary ADD COLUMN IF NOT EXISTS is_deleted BOOLEAN"
SUMMARY_COLUMNS = ("user_id, email, first_name, last_name, activity_count, active_days, first_activity_at, "
                   "last_activity_at, last_activity_type, is_deleted")


def refresh_daily(client, start: datetime, end: datetime) -> int:
    """Replace exactly the rows of the UTC days in [start, end)."""
    day = utc_day_sql("date")
    with client.begin_transaction():
        client.execute_sql(DAILY_DDL)
        client.execute_sql(
            f"DELETE FROM lms.user_activity_daily WHERE activity_date >= DATE '{start.date()}' "
            f"AND activity_date < DATE '{end.date()}'"
        )
        client.execute_sql(f"""
            INSERT INTO lms.user_activity_daily
            SELECT "user", {day}, COUNT(*),
                   SUM(CASE WHEN type = 'completed' THEN 1 ELSE 0 END),
                   COUNT(DISTINCT context_id)
            FROM lms.activities
            WHERE "user" IS NOT NULL AND date >= {timestamp_sql(start)} AND date < {timestamp_sql(end)}
            GROUP BY "user", {day}""")
    rows = client.execute_sql(
        f"SELECT COUNT(*), COALESCE(SUM(activity_count), 0) FROM lms.user_activity_daily "
        f"WHERE activity_date >= DATE '{start.date()}' AND activity_date < DATE '{end.date()}'"
    )
    return rows[0]


def refresh_summary(client) -> None:
    day = utc_day_sql("date")
    with client.begin_transaction():
        client.execute_sql(SUMMARY_DDL)
        client.execute_sql(SUMMARY_MIGRATION)
        client.execute_sql("DELETE FROM lms.user_activity_summary")
        client.execute_sql(f"""
            INSERT INTO lms.user_activity_summary ({SUMMARY_COLUMNS})
            WITH per_user AS (
                SELECT "user" AS user_id, COUNT(*) AS activity_count,
                       COUNT(DISTINCT {day}) AS active_days,
                       MIN(date) AS first_activity_at, MAX(date) AS last_activity_at
                FROM lms.activities WHERE "user" IS NOT NULL GROUP BY "user"
            ), ranked AS (
                SELECT "user" AS user_id, type,
                       ROW_NUMBER() OVER (PARTITION BY "user" ORDER BY date DESC, id DESC) AS rn
                FROM lms.activities WHERE "user" IS NOT NULL
            )
            SELECT u.id, u.email, u.first_name, u.last_name,
                   COALESCE(p.activity_count, 0), COALESCE(p.active_days, 0),
                   p.first_activity_at, p.last_activity_at, r.type, COALESCE(u.is_deleted, FALSE)
            FROM lms.users u
            LEFT JOIN per_user p ON p.user_id = u.id
            LEFT JOIN ranked r ON r.user_id = u.id AND r.rn = 1""")


@asset(
    key=["lms", "user_activity_daily"],
    deps=[ACTIVITIES],
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    automation_condition=DAILY_AUTOMATION,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"sql"},
    description=(
        "One row per (user_id, activity_date): activities of known-user activity per UTC day, "
        "with completed_count and distinct_contents. A run replaces exactly the days of its window."
    ),
)
def user_activity_daily(context: AssetExecutionContext) -> MaterializeResult:
    window = context.partition_time_window
    with sql_client() as client:
        rows, activities = refresh_daily(client, window.start, window.end)
    return MaterializeResult(metadata={
        "dagster/row_count": MetadataValue.int(int(rows)),
        "activities_covered": MetadataValue.int(int(activities)),
        "window_start": MetadataValue.text(window.start.isoformat()),
        "window_end": MetadataValue.text(window.end.isoformat()),
    })


@asset(
    key=["lms", "user_activity_summary"],
    deps=[USERS, ACTIVITIES],
    automation_condition=SUMMARY_AUTOMATION,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"sql"},
    description=(
        "One row per LMS user: activity_count, active_days, first/last activity, the type of "
        "the last one, and is_deleted. Users without activity have zero counts; deleted users are "
        "kept but never counted as active learners."
    ),
)
def user_activity_summary(context: AssetExecutionContext) -> MaterializeResult:
    with sql_client() as client:
        refresh_summary(client)
        total, active, deleted = client.execute_sql(
            "SELECT COUNT(*), SUM(CASE WHEN activity_count > 0 AND NOT is_deleted THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN is_deleted THEN 1 ELSE 0 END) FROM lms.user_activity_summary")[0]
        top = client.execute_sql(
            "SELECT user_id, email, activity_count, active_days, last_activity_type "
            "FROM lms.user_activity_summary ORDER BY activity_count DESC, user_id LIMIT 10")
        day = utc_day_sql("date")
        days = client.execute_sql(f"""
            SELECT d, users, acts FROM (
                SELECT {day} AS d, COUNT(DISTINCT "user") AS users, COUNT(*) AS acts
                FROM lms.activities GROUP BY {day} ORDER BY {day} DESC LIMIT 60) recent
            ORDER BY d""")
    table = "| user_id | email | activities | active days | last type |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {u} | {e} | {c} | {d} | {t} |" for u, e, c, d, t in top)
    return MaterializeResult(metadata={
        "dagster/row_count": MetadataValue.int(int(total)),
        "active_users": MetadataValue.int(int(active or 0)),
        "deleted_users": MetadataValue.int(int(deleted or 0)),
        "top_users": MetadataValue.md(table),
        "daily_activity": MetadataValue.md(chart_markdown([(d, int(u), int(a)) for d, u, a in days])),
    })
