"""Automation: asset jobs, schedules, the sensor that keeps the summaries following their upstream, freshness."""

from lms_assets.defs.automation.freshness import FRESHNESS_CHECKS, freshness_sensor
from lms_assets.defs.automation.jobs import activities_job, assignments_job, cpd_job, dimensions_job, dimensions_resync_job
from lms_assets.defs.automation.schedules import activities_daily, assignments_refresh, cpd_daily, dimensions_refresh
from lms_assets.defs.automation.sensors import summaries_automation

JOBS = [dimensions_job, dimensions_resync_job, activities_job, assignments_job, cpd_job]
SCHEDULES = [activities_daily, dimensions_refresh, assignments_refresh, cpd_daily]
SENSORS = [summaries_automation, freshness_sensor]
CHECKS = [*FRESHNESS_CHECKS]

__all__ = ["CHECKS", "JOBS", "SCHEDULES", "SENSORS"]
