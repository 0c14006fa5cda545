"""How a tenant's dbt models and the dlt tables they read appear in Dagster.

Sources map to the tenant's dlt assets (`<prefix>/<table>`), so lineage runs from an API listing to the
last model in one graph; models get `<prefix>/<model>` in the tenant's summaries group. The models keep
the automation the summaries always had.
"""

from __future__ import annotations

from typing import Any, Mapping

from dagster import AssetKey, AutomationCondition
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from lms_assets.tenant.keys import OWNERS
from lms_assets.tenant.tenant import Tenant

# Follow upstream without a person acting. The daily table is `eager()` without its
# latest-window limit, so a backfilled day propagates too; it still waits for its activity day.
DAILY_AUTOMATION = (
    AutomationCondition.eager().without(AutomationCondition.in_latest_time_window())
).with_label("eager, every day (not only the latest)")
# The user summary reads a history that is never complete (eager() would wait for every
# activity partition forever): it follows any update of users or of any activity day.
SUMMARY_AUTOMATION = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after users or any activity day updates")
# Once every upstream has been loaded: a tenant that never loads assignments gets no failing
# compliance run each time its users refresh. The roll-ups are requested with the report.
COMPLIANCE_AUTOMATION = (SUMMARY_AUTOMATION & ~AutomationCondition.any_deps_missing()).with_label(
    "after enrolments, assignments, audiences, users or content update, once all are loaded")

# The history follows every load of what it records.
HISTORY_AUTOMATION = SUMMARY_AUTOMATION.with_label("after each load of the table it records")

DAILY_MODEL = "user_activity_daily"
COMPLIANCE_DAILY_MODEL = "assignment_compliance_daily"
PARTITIONED_MODELS = (DAILY_MODEL, COMPLIANCE_DAILY_MODEL)


def automation_for(model: str, resource_type: str = "model") -> AutomationCondition | None:
    if resource_type == "snapshot":
        return HISTORY_AUTOMATION
    if model == DAILY_MODEL:
        return DAILY_AUTOMATION
    if model == COMPLIANCE_DAILY_MODEL:
        return None  # the daily schedule rebuilds yesterday and a lookback (late changes), see automation/schedules.py
    return COMPLIANCE_AUTOMATION if model.startswith("assignment_compliance") else SUMMARY_AUTOMATION


class LmsDbtTranslator(DagsterDbtTranslator):
    def __init__(self, tenant: Tenant):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.tenant = tenant

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return self.tenant.key(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return self.tenant.summaries_group

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> AutomationCondition | None:
        if dbt_resource_props["resource_type"] not in ("model", "snapshot"):
            return None
        return automation_for(dbt_resource_props["name"], dbt_resource_props["resource_type"])
