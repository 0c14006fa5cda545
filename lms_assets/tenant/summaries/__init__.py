"""Summaries: a tenant's user-activity tables and compliance report, computed in its dataset, and their checks."""

from lms_assets.tenant.summaries.assets import build_summaries
from lms_assets.tenant.summaries.checks import build_summary_checks
from lms_assets.tenant.summaries.compliance import build_compliance

__all__ = ["build_compliance", "build_summaries", "build_summary_checks"]
