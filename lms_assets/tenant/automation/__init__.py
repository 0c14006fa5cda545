"""Automation: a tenant's asset jobs, schedules, the sensor that keeps its summaries following their upstream, freshness."""

from lms_assets.tenant.automation.freshness import build_freshness
from lms_assets.tenant.automation.jobs import build_jobs
from lms_assets.tenant.automation.schedules import build_schedules
from lms_assets.tenant.automation.sensors import build_summaries_automation

__all__ = ["build_freshness", "build_jobs", "build_schedules", "build_summaries_automation"]
