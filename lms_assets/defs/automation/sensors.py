"""The summaries follow their upstream through declarative automation, evaluated by this sensor."""

from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus

from lms_assets.defs.keys import SUMMARIES_GROUP

summaries_automation = AutomationConditionSensorDefinition(
    "lms_summaries_automation",
    target=AssetSelection.groups(SUMMARIES_GROUP),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    # run-level retries (needs `run_retries: enabled` in dagster.yaml) for what the sensor launches
    run_tags={"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"},
    description="When an activity partition or the users land, bring their summaries up to date.",
)
