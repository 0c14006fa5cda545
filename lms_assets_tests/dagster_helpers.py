"""Running the project's own Dagster definitions in-process, as a test would from the UI."""

from __future__ import annotations

from dagster import DagsterInstance

from lms_assets.tenant.partition_ranges import range_tags
from lms_assets_tests.keys import lms_key as key


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


def activities_job():
    """lms/activities as a job without the shipped jobs' step retries (30 s apart), reconstructable:
    what `execute_job` and "re-execute from failure" need."""
    from dagster import Definitions, define_asset_job

    from lms_assets.definitions import defs

    job = define_asset_job("lms_activities_once", selection=[key("activities")])
    return Definitions.merge(defs, Definitions(jobs=[job])).resolve_job_def(job.name)


def run_range(instance: DagsterInstance, first: str, last: str, reexecute_from: str | None = None):
    """A range run of lms/activities through `execute_job`; with `reexecute_from`, "re-execute from failure" of that run."""
    from dagster import ReexecutionOptions, execute_job, reconstructable

    options = ReexecutionOptions.from_failure(reexecute_from, instance) if reexecute_from else None
    # the parent's range tags go with the retry, as the UI's "re-execute" and run retries carry them
    return execute_job(reconstructable(activities_job), instance, tags=range_tags(first, last), reexecution_options=options,
                       raise_on_error=False,
                       run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})


def check_results(result) -> dict[str, object]:
    """{check name: AssetCheckEvaluation} for the checks a run executed."""
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def materialization_metadata(result, name: str) -> dict:
    """The metadata of the run's last materialization of lms/<name> (a range run reports its committed days first)."""
    for event in reversed(result.all_events):
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


def run_job(instance: DagsterInstance, name: str, raise_on_error: bool = True):
    """One of the project's jobs, in-process (e.g. `lms_dimensions_resync`)."""
    from lms_assets.definitions import defs

    return defs.resolve_job_def(name).execute_in_process(
        instance=instance, raise_on_error=raise_on_error,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
