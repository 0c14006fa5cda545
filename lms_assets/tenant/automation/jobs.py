"""A tenant's asset jobs for the schedules; their steps retry with backoff (`@dlt_assets` takes no retry policy)."""

from dagster import AssetSelection, Backoff, Jitter, RetryPolicy, define_asset_job

from lms_assets.tenant.keys import ASSIGNMENT_RESOURCES, DIMENSION_RESOURCES, RESYNC_TAG
from lms_assets.tenant.tenant import Tenant

STEP_RETRIES = RetryPolicy(max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


def build_jobs(tenant: Tenant) -> dict:
    """{what: job}: dimensions, dimensions_resync, activities, assignments, compliance_daily, cpd."""
    dimensions = AssetSelection.assets(*(tenant.key(name) for name in DIMENSION_RESOURCES))
    return {
        "dimensions": define_asset_job(
            tenant.name("dimensions_job"), selection=dimensions, op_retry_policy=STEP_RETRIES,
            description="Refresh LMS content and users (full listing, merged on id)."),
        "dimensions_resync": define_asset_job(
            tenant.name("dimensions_resync"), selection=dimensions, tags={RESYNC_TAG: "true"},
            description=("Rebuild LMS content and users from a complete listing (dlt replace, insert-from-staging: "
                         "readers see the old rows or the new, never an empty table); soft-deleted rows are carried over.")),
        "activities": define_asset_job(
            tenant.name("activities_job"), selection=AssetSelection.assets(tenant.key("activities")),
            op_retry_policy=STEP_RETRIES, description="Load a range of daily activity partitions in one pass over the API."),
        "assignments": define_asset_job(
            tenant.name("assignments_job"), selection=AssetSelection.assets(*(tenant.key(n) for n in ASSIGNMENT_RESOURCES)),
            op_retry_policy=STEP_RETRIES,
            description=("Refresh audiences, their members and assignments (full listings), and enrolments changed "
                         "since the last run.")),
        "compliance_daily": define_asset_job(
            tenant.name("compliance_daily_job"), selection=AssetSelection.assets(tenant.key("assignment_compliance_daily")),
            op_retry_policy=STEP_RETRIES, description="Build a range of days of the compliance history in one dbt run."),
        "cpd": define_asset_job(
            tenant.name("cpd_job"), selection=AssetSelection.assets(tenant.key("cpd_entries")),
            op_retry_policy=STEP_RETRIES, description="Load a range of daily CPD-entry partitions in one pass over the API."),
    }
