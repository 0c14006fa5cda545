"""A tenant's models: the dbt project in `lms_assets/dbt/`, run through dagster-dbt on the tenant's dataset."""

from lms_assets.tenant.models.assets import build_model_assets

__all__ = ["build_model_assets"]
