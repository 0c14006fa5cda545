"""The code location: `dagster dev` and `dagster asset materialize -m lms_assets.definitions` load `defs`."""

from dagster import Definitions
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
)
