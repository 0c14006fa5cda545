"""The project's Dagster components (`dg list components`, `dg scaffold defs lms_assets.components.LmsTenantComponent ...`)."""

from lms_assets.components.lms_tenant import LmsTenantComponent

__all__ = ["LmsTenantComponent"]
