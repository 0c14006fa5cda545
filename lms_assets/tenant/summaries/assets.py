"""User-activity summaries, computed in the warehouse with SQL that runs on DuckDB and PostgreSQL.

Both tables are rebuilt in one transaction per run: a reader sees the old rows or the new,
never a half-written window.
"""


from datetime import datetime

from dagster import (
    AssetExecutionContext,
    AutomationCondition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from lms_assets.tenant.keys import OWNERS
from lms_assets.tenant.partitions import partitions_for
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.summaries.charts import chart_markdown
from lms_assets.tenant.summaries.lineage import lineages
from lms_assets.tenant.summaries.metadata import table_metadata
from lms_assets.tenant.summaries.queries import query, statements
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import utc_day_sql, window_sql

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


def refresh_daily(client, start: datetime, end: datetime) -> tuple[int, int]:
    """Replace exactly the rows of the UTC days in [start, end); (rows, activities covered)."""
    days = {"first_day": start.date(), "end_day": end.date()}
    with client.begin_transaction():
        for sql in statements(client, "user_activity_daily", day=utc_day_sql("date"), window=window_sql("date", start, end), **days):
            client.execute_sql(sql)
    rows, activities = client.execute_sql(query(client, "user_activity_daily_totals", **days))[0]
    return int(rows), int(activities)


def refresh_summary(client) -> None:
    present = {r[0] for r in client.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'users'",
        client.fully_qualified_dataset_name(quote=False))}
    personal = {c: (f"u.{c}" if c in present else "CAST(NULL AS TEXT)") for c in ("email", "first_name", "last_name")}
    with client.begin_transaction():
        for sql in statements(client, "user_activity_summary", day=utc_day_sql("date"), **personal):
            client.execute_sql(sql)


def top_users(client, limit: int) -> list[tuple]:
    """(user_id, email, activity_count, active_days, last_activity_type), most active first."""
    return client.execute_sql(query(client, "top_users", limit=int(limit)))


def build_summaries(tenant: Tenant) -> list:
    """The tenant's summary assets, on its own dataset and downstream of its own loads."""
    lineage = lineages(tenant)

    @asset(
        key=tenant.key("user_activity_daily"),
        deps=[tenant.key("activities")],
        partitions_def=partitions_for(tenant),
        backfill_policy=BackfillPolicy.single_run(),
        automation_condition=DAILY_AUTOMATION,
        group_name=tenant.summaries_group,
        owners=OWNERS,
        kinds={"sql"},
        metadata={"dagster/column_lineage": lineage["user_activity_daily"]},
        description=(
            "One row per (user_id, activity_date): activities of known-user activity per UTC day, "
            "with completed_count and distinct_contents. A run replaces exactly the days of its window."
        ),
    )
    def user_activity_daily(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        window = context.partition_time_window
        with warehouse.sql_client(tenant.dataset) as client:
            rows, activities = refresh_daily(client, window.start, window.end)
            total = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name('user_activity_daily')}")[0][0]
            standard = table_metadata(client, "user_activity_daily", total)
        return MaterializeResult(metadata={
            **standard,
            "dagster/partition_row_count": MetadataValue.int(rows),
            "activities_covered": MetadataValue.int(activities),
            "window_start": MetadataValue.text(window.start.isoformat()),
            "window_end": MetadataValue.text(window.end.isoformat()),
        })


    @asset(
        key=tenant.key("user_activity_summary"),
        deps=[tenant.key("users"), tenant.key("activities")],
        automation_condition=SUMMARY_AUTOMATION,
        group_name=tenant.summaries_group,
        owners=OWNERS,
        kinds={"sql"},
        metadata={"dagster/column_lineage": lineage["user_activity_summary"]},
        description=(
            "One row per LMS user: activity_count, active_days, first/last activity, the type of "
            "the last one, and is_deleted. Users without activity have zero counts; deleted users are "
            "kept but never counted as active learners."
        ),
    )
    def user_activity_summary(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.sql_client(tenant.dataset) as client:
            refresh_summary(client)
            total, active, deleted = client.execute_sql(query(client, "user_activity_summary_totals"))[0]
            top = top_users(client, 10)
            days = client.execute_sql(query(client, "daily_activity", day=utc_day_sql("date")))
            standard = table_metadata(client, "user_activity_summary", total)
        table = "| user_id | email | activities | active days | last type |\n|---|---|---|---|---|\n" + "\n".join(
            f"| {u} | {e} | {c} | {d} | {t} |" for u, e, c, d, t in top)
        return MaterializeResult(metadata={
            **standard,
            "active_users": MetadataValue.int(int(active or 0)),
            "deleted_users": MetadataValue.int(int(deleted or 0)),
            "top_users": MetadataValue.md(table),
            "daily_activity": MetadataValue.md(chart_markdown([(d, int(u), int(a)) for d, u, a in days])),
        })


    @asset(
        key=tenant.key("content_engagement"),
        deps=[tenant.key("content"), tenant.key("activities")],
        automation_condition=SUMMARY_AUTOMATION,
        group_name=tenant.summaries_group,
        owners=OWNERS,
        kinds={"sql"},
        metadata={"dagster/column_lineage": lineage["content_engagement"]},
        description=(
            f"One row per content item of {tenant.dataset}.content: distinct_users, activity_count, completed_count (types "
            "completed and passed), completion_rate (distinct completing users / distinct users, null without "
            "users), first and last activity. Activities join on context_id; content without activity has zeros."
        ),
    )
    def content_engagement(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.sql_client(tenant.dataset) as client:
            with client.begin_transaction():
                for sql in statements(client, "content_engagement"):
                    client.execute_sql(sql)
            total = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name('content_engagement')}")[0][0]
            top = client.execute_sql(query(client, "top_contents", limit=10))
            standard = table_metadata(client, "content_engagement", total)
        table = "| content_id | title | distinct users | activities | completion rate |\n|---|---|---|---|---|\n" + "\n".join(
            f"| {c} | {t} | {u} | {a} | {'' if r is None else f'{r:.2f}'} |" for c, t, u, a, r in top)
        return MaterializeResult(metadata={**standard, "top_contents": MetadataValue.md(table)})

    return [user_activity_daily, user_activity_summary, content_engagement]
