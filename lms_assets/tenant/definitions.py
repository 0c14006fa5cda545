"""One tenant's definitions: its assets, checks, jobs, schedules and sensors, every name its own."""

from dagster import Definitions

from lms_assets.tenant import automation, ingestion, models
from lms_assets.tenant.tenant import Tenant


def build_tenant_defs(tenant: Tenant) -> Definitions:
    jobs = automation.build_jobs(tenant)
    freshness_checks, freshness_sensor = automation.build_freshness(tenant)
    return Definitions(
        assets=[*ingestion.build_assets(tenant), *models.build_model_assets(tenant)],
        asset_checks=[*ingestion.build_checks(tenant), *freshness_checks],
        jobs=list(jobs.values()),
        schedules=automation.build_schedules(tenant, jobs),
        sensors=[automation.build_summaries_automation(tenant), freshness_sensor],
    )
