"""Summaries: user-activity tables computed in the warehouse, and their checks."""

from lms_assets.defs.summaries.assets import content_engagement, user_activity_daily, user_activity_summary
from lms_assets.defs.summaries.checks import CHECKS
from lms_assets.defs.summaries.compliance import assignment_compliance

ASSETS = [user_activity_daily, user_activity_summary, content_engagement, assignment_compliance]

__all__ = ["ASSETS", "CHECKS"]
