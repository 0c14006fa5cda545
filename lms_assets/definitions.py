"""The code location: `dagster dev` and `dagster asset materialize -m lms_assets.definitions` load `defs`."""

from dagster import Definitions, in_process_executor
from dagster_dlt import DagsterDltResource

from lms_assets.checks import ALL_CHECKS
from lms_assets.ingestion import lms_activities, lms_dimensions
from lms_assets.jobs import activities_job, dimensions_job
from lms_assets.schedules import activities_daily, dimensions_refresh
from lms_assets.sensors import summaries_automation
from lms_assets.summaries import user_activity_daily, user_activity_summary

defs = Definitions(
    assets=[lms_dimensions, lms_activities, user_activity_daily, user_activity_summary],
    asset_checks=ALL_CHECKS,
    jobs=[dimensions_job, activities_job],
    schedules=[activities_daily, dimensions_refresh],
    sensors=[summaries_automation],
    resources={"dlt": DagsterDltResource()},
    # One process per run: a run here is one load plus a few SQL checks, and a subprocess per step
    # costs ~3 s each on two cores (measured in bench/). Parallelism is across runs (the pool).
    executor=in_process_executor,
)
