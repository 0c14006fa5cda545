"""Ingestion: the dlt assets of a tenant's LMS API and the checks of what they load."""

from lms_assets.tenant.ingestion.assets import build_assets
from lms_assets.tenant.ingestion.checks import build_checks

__all__ = ["build_assets", "build_checks"]
