"""Checks of the summary tables against the activities they are computed from."""

from dagster import AssetCheckExecutionContext, AssetCheckResult, asset_check

from lms_assets.tenant.ingestion.checks import not_loaded, tables
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.summaries.queries import query
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import utc_day_sql


def build_summary_checks(tenant: Tenant) -> list:
    """The checks of a tenant's summary tables against its own loaded tables."""

    @asset_check(
        asset=tenant.key("user_activity_daily"),
        description="sum(activity_count) equals the known-user activities of the days the table covers.",
    )
    def daily_counts_match_activities(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.sql_client(tenant.dataset) as client:
            if not {"activities", "user_activity_daily"} <= tables(client):
                return not_loaded("user_activity_daily")
            summed, covered = client.execute_sql(query(client, "daily_counts_check", day=utc_day_sql("a.date")))[0]
        return AssetCheckResult(passed=int(summed) == int(covered),
                                metadata={"sum_activity_count": int(summed), "activities_covered": int(covered)})


    @asset_check(
        asset=tenant.key("content_engagement"),
        description=f"One row per content id of {tenant.dataset}.content, and activity counts that sum to the activities referencing known content.",
    )
    def content_engagement_matches_sources(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.sql_client(tenant.dataset) as client:
            if not {"activities", "content", "content_engagement"} <= tables(client):
                return not_loaded("content_engagement")
            rows, distinct, contents, summed, referencing = client.execute_sql(query(client, "content_engagement_check"))[0]
        return AssetCheckResult(
            passed=int(rows) == int(distinct) == int(contents) and int(summed) == int(referencing),
            metadata={"rows": int(rows), "distinct_content_ids": int(distinct), "content_items": int(contents),
                      "sum_activity_count": int(summed), "activities_referencing_known_content": int(referencing)})


    @asset_check(
        asset=tenant.key("assignment_compliance"),
        description=("Rows of the report, and enrolled / complete / open / overdue of its two roll-ups, equal the enrolments "
                     "(not archived, of assignments not deleted) they are built from."),
    )
    def assignment_compliance_counts_match_enrolments(context: AssetCheckExecutionContext,
                                                      warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.sql_client(tenant.dataset) as client:
            present = tables(client)
            if not {"enrolments", "assignments", "assignment_compliance"} <= present:
                return not_loaded("assignment_compliance")
            (source, rows, by_audience, by_assignment, complete, complete_rolled, overdue, overdue_rolled,
             open_, open_rolled) = (int(v) for v in client.execute_sql(query(client, "assignment_compliance_check"))[0])
        return AssetCheckResult(
            passed=source == rows == by_audience == by_assignment and complete == complete_rolled
            and overdue == overdue_rolled and open_ == open_rolled,
            metadata={"enrolments": source, "report_rows": rows, "enrolled_by_audience": by_audience,
                      "enrolled_by_assignment": by_assignment, "complete": complete, "complete_rolled_up": complete_rolled,
                      "overdue": overdue, "overdue_rolled_up": overdue_rolled, "open": open_, "open_rolled_up": open_rolled})

    return [daily_counts_match_activities, content_engagement_matches_sources, assignment_compliance_counts_match_enrolments]
