"""Asset jobs for the schedules; their steps retry with backoff (`@dlt_assets` takes no retry policy)."""

from dagster import AssetSelection, Backoff, Jitter, RetryPolicy, define_asset_job

from lms_assets.defs.keys import ACTIVITIES, ASSIGNMENT_RESOURCES, CONTENT, CPD_ENTRIES, RESYNC_TAG, USERS, lms_key

STEP_RETRIES = RetryPolicy(max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)

dimensions_job = define_asset_job(
    "lms_dimensions_job",
    selection=AssetSelection.assets(CONTENT, USERS),
    op_retry_policy=STEP_RETRIES,
    description="Refresh LMS content and users (full listing, merged on id).",
)

dimensions_resync_job = define_asset_job(
    "lms_dimensions_resync",
    selection=AssetSelection.assets(CONTENT, USERS),
    tags={RESYNC_TAG: "true"},
    description=("Rebuild LMS content and users from a complete listing (dlt replace, insert-from-staging: readers "
                 "see the old rows or the new, never an empty table); soft-deleted rows are carried over."),
)

activities_job = define_asset_job(
    "lms_activities_job",
    selection=AssetSelection.assets(ACTIVITIES),
    op_retry_policy=STEP_RETRIES,
    description="Load a range of daily activity partitions in one pass over the API.",
)

assignments_job = define_asset_job(
    "lms_assignments_job",
    selection=AssetSelection.assets(*(lms_key(name) for name in ASSIGNMENT_RESOURCES)),
    op_retry_policy=STEP_RETRIES,
    description="Refresh audiences, their members and assignments (full listings), and enrolments changed since the last run.",
)

cpd_job = define_asset_job(
    "lms_cpd_job",
    selection=AssetSelection.assets(CPD_ENTRIES),
    op_retry_policy=STEP_RETRIES,
    description="Load a range of daily CPD-entry partitions in one pass over the API.",
)
