"""Running the project's own Dagster definitions in-process, as a test would from the UI."""

from __future__ import annotations

from dagster import DagsterInstance

from lms_assets.defs.keys import lms_key as key
from lms_assets.defs.partition_ranges import range_tags


def materialize(instance: DagsterInstance, *names: str, partition: str | None = None,
                first: str | None = None, last: str | None = None, raise_on_error: bool = True, warehouse=None):
    """Materialize lms/<names>; `warehouse` (a WarehouseResource) replaces the environment's."""
    from lms_assets.definitions import build_defs, defs

    job = (build_defs(warehouse) if warehouse else defs).resolve_implicit_global_asset_job_def()
    tags = range_tags(first, last or first) if first else {}
    return job.execute_in_process(
        instance=instance, asset_selection=[key(n) for n in names], partition_key=partition, tags=tags,
        raise_on_error=raise_on_error,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )


def check_results(result) -> dict[str, object]:
    """{check name: AssetCheckEvaluation} for the checks a run executed."""
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def materialization_metadata(result, name: str) -> dict:
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            if m.asset_key == key(name):
                return {k: v.value for k, v in m.metadata.items()}
    raise AssertionError(f"no materialization of lms/{name} in the run")


def run_checks(instance: DagsterInstance, *names: str, partition: str | None = None):
    """Run only the asset checks of `names` (no materialization), as the UI's "Execute checks" does."""
    from lms_assets.definitions import defs

    wanted = {key(n) for n in names}
    checks = {ck for ck in defs.resolve_asset_graph().asset_check_keys if ck.asset_key in wanted}
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection=set(), asset_check_selection=checks)
    return job.execute_in_process(instance=instance, partition_key=partition, raise_on_error=False,
                                  run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
