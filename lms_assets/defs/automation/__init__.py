"""Automation: asset jobs, schedules, and the sensor that keeps the summaries following their upstream."""

from lms_assets.defs.automation.jobs import activities_job, dimensions_job
from lms_assets.defs.automation.schedules import activities_daily, dimensions_refresh
from lms_assets.defs.automation.sensors import summaries_automation

JOBS = [dimensions_job, activities_job]
SCHEDULES = [activities_daily, dimensions_refresh]
SENSORS = [summaries_automation]

__all__ = ["JOBS", "SCHEDULES", "SENSORS"]
