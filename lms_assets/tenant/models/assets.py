"""A tenant's dbt models as Dagster assets: the daily model by partition, the rest in a second `@dbt_assets`.

As dagster-open-platform splits them: the partitioned model gets its window as dbt vars (one dbt
invocation per run, whatever the range, by the single-run backfill policy), the others are rebuilt whole.
"""

from datetime import datetime, timezone

from dagster import AssetExecutionContext, BackfillPolicy
from dagster_dbt import DbtCliResource, dbt_assets

from lms_assets.tenant.config import due_soon_days
from lms_assets.tenant.models.build import build_models
from lms_assets.tenant.models.history import check_history_began, check_versions
from lms_assets.tenant.models.project import dbt_project
from lms_assets.tenant.models.translator import PARTITIONED_MODELS, LmsDbtTranslator
from lms_assets.tenant.partitions import partitions_for
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.tenant import Tenant


def build_model_assets(tenant: Tenant) -> list:
    project = dbt_project()
    translator = LmsDbtTranslator(tenant)

    @dbt_assets(manifest=project.manifest_path, project=project, select=" ".join(PARTITIONED_MODELS),
                name=tenant.name("daily_models"), dagster_dbt_translator=translator, partitions_def=partitions_for(tenant),
                backfill_policy=BackfillPolicy.single_run())
    def daily_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        window = context.partition_time_window
        days = {"lms_first_day": window.start.astimezone(timezone.utc).date().isoformat(),
                "lms_end_day": window.end.astimezone(timezone.utc).date().isoformat()}
        if tenant.key("assignment_compliance_daily") in context.selected_asset_keys:
            check_history_began(warehouse.get(tenant.dataset), tenant, days["lms_first_day"])
        yield from build_models(context, tenant, warehouse, dbt, days)

    # The unpartitioned models and the history's snapshots: one dbt invocation when the sensor asks for both
    # after an assignments load (a dbt process costs seconds to start).
    @dbt_assets(manifest=project.manifest_path, project=project, exclude=" ".join(PARTITIONED_MODELS),
                name=tenant.name("models"), dagster_dbt_translator=translator)
    def models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        check_versions(warehouse.get(tenant.dataset), tenant, {key.path[-1] for key in context.selected_asset_keys})
        # one instant for the whole report: days_overdue is counted to it and kept in every row (as_of)
        yield from build_models(context, tenant, warehouse, dbt, {"lms_as_of": datetime.now(timezone.utc).isoformat(),
                                                                  "lms_due_soon_days": due_soon_days()})

    return [daily_models, models]
