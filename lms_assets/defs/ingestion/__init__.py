"""Ingestion: the dlt assets of the LMS API and the checks of what they load."""

from lms_assets.defs.ingestion.assets import lms_activities, lms_assignments, lms_cpd, lms_dimensions
from lms_assets.defs.ingestion.checks import CHECKS

ASSETS = [lms_dimensions, lms_activities, lms_assignments, lms_cpd]

__all__ = ["ASSETS", "CHECKS"]
