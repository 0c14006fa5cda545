"""Ingestion: the dlt assets of the LMS API and the checks of what they load."""

from lms_assets.defs.ingestion.assets import lms_activities, lms_dimensions
from lms_assets.defs.ingestion.checks import CHECKS

ASSETS = [lms_dimensions, lms_activities]

__all__ = ["ASSETS", "CHECKS"]
