"""A tenant's summaries follow their upstream through declarative automation, evaluated by this sensor."""

from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus

from lms_assets.tenant.tenant import Tenant


def build_summaries_automation(tenant: Tenant) -> AutomationConditionSensorDefinition:
    return AutomationConditionSensorDefinition(
        tenant.name("summaries_automation"),
        target=AssetSelection.groups(tenant.summaries_group),
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=60,
        # run-level retries (needs `run_retries: enabled` in dagster.yaml) for what the sensor launches
        run_tags={"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"},
        description="When an activity partition or the users land, bring their summaries up to date.",
    )
