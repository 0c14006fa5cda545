"""Asset jobs for the schedules; their steps retry with backoff (`@dlt_assets` takes no retry policy)."""

from dagster import AssetKey, AssetSelection, Backoff, Jitter, RetryPolicy, define_asset_job

from lms_assets.partitions import daily_partitions

STEP_RETRIES = RetryPolicy(max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)

dimensions_job = define_asset_job(
    "lms_dimensions_job",
    selection=AssetSelection.assets(AssetKey(["lms", "content"]), AssetKey(["lms", "users"])),
    op_retry_policy=STEP_RETRIES,
    description="Refresh LMS content and users (full listing, merged on id).",
)

activities_job = define_asset_job(
    "lms_activities_job",
    selection=AssetSelection.assets(AssetKey(["lms", "activities"])),
    partitions_def=daily_partitions,
    op_retry_policy=STEP_RETRIES,
    description="Load a range of daily activity partitions in one pass over the API.",
)
