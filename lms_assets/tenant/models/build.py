"""One `dbt build` of a tenant's selected models: under the warehouse's lock, on its profile, with the
metadata every model reports, and one sentence for whatever fails.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from dagster import AssetCheckResult, AssetExecutionContext, Failure, Output
from dagster_dbt import DbtCliInvocation, DbtCliResource

from lms_assets.tenant.models.extras import extra_metadata
from lms_assets.tenant.models.profile import SETTINGS, dbt_profile, partial_parse
from lms_assets.tenant.models.project import manifest
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import Warehouse

TABLE_ORDER = ("enrolments", "assignments", "audiences", "audience_members", "users", "content", "activities", "cpd_entries")


def _selected_models(context: AssetExecutionContext) -> list[dict[str, Any]]:
    names = {key.path[-1] for key in context.selected_asset_keys}
    return [n for n in manifest()["nodes"].values() if n["resource_type"] in ("model", "snapshot") and n["name"] in names]


def _missing_sources(warehouse: Warehouse, models: list[dict[str, Any]]) -> list[str]:
    needed = {manifest()["sources"][uid]["name"] for m in models for uid in m["depends_on"]["nodes"] if uid.startswith("source.")}
    if not needed:
        return []
    present = warehouse.read(lambda client: {r[0] for r in client.execute_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", client.fully_qualified_dataset_name(quote=False))})
    return sorted(needed - present, key=lambda t: TABLE_ORDER.index(t) if t in TABLE_ORDER else len(TABLE_ORDER))


def _runtime_manifest(warehouse: Warehouse) -> dict[str, Any]:
    """The prepared manifest with the relations of this warehouse and dataset, where the models are built.

    dagster-dbt reads a model's columns and its parents' (for column lineage) from the relations the
    manifest names; the manifest is parsed once, for the defaults, and every tenant builds in its own schema.
    """
    database = warehouse.duckdb_path.stem if warehouse.is_duckdb else _postgres_database()
    patched = json.loads(json.dumps(manifest()))
    for node in [*patched["nodes"].values(), *patched["sources"].values()]:
        if node["resource_type"] in ("model", "source"):
            node["database"], node["schema"] = database, warehouse.dataset
            name = node.get("identifier") if node["resource_type"] == "source" else node.get("alias")
            node["relation_name"] = f'"{database}"."{warehouse.dataset}"."{name}"'
    return patched


def _postgres_database() -> str:
    from dlt.destinations import postgres

    return str(postgres().configuration(None, accept_partial=True).credentials.database)


def _failure_sentence(invocation: DbtCliInvocation, tenant: Tenant) -> str | None:
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except FileNotFoundError:
        error = invocation.get_error()
        return f"dbt could not build {tenant.prefix}'s models: {str(error).splitlines()[0] if error else 'see the run log'}."
    failed = [r for r in results if r["status"] == "error" and r["unique_id"].startswith(("model.", "snapshot."))]
    if not failed:
        return None
    first = failed[0]
    name = first["unique_id"].rsplit(".", 1)[-1]
    message = " ".join(str(first.get("message") or "no message").split())[:400]
    return (f"The dbt model {name} of {tenant.prefix} failed ({message}); its previous table is left in place, "
            f"fix the model or its input and materialize {tenant.key(name).to_user_string()} again.")


def _release_adapter(invocation: DbtCliInvocation) -> None:
    """Close the DuckDB database dagster-dbt's in-process adapter opened to read the models' columns.

    dbt-duckdb keeps one database instance per process; left open, it holds the file with its own
    configuration, and the next connection of this process (the metadata queries) is refused.
    """
    adapter = invocation.adapter
    if adapter is None or adapter.type() != "duckdb":
        return
    adapter.cleanup_connections()
    type(adapter.connections).env().close()


def _check_result(event: AssetCheckResult) -> AssetCheckResult:
    if event.passed:
        return event
    failing = event.metadata.get("dagster_dbt/failed_row_count")
    count = failing.value if failing is not None else "some"
    description = (f"dbt test {event.check_name} on {event.asset_key.to_user_string()} failed: {count} "
                   f"row{'s' if count != 1 else ''} broke it.")
    return AssetCheckResult(asset_key=event.asset_key, check_name=event.check_name, passed=False, severity=event.severity,
                            metadata=event.metadata, description=description)


def build_models(context: AssetExecutionContext, tenant: Tenant, warehouse_resource: WarehouseResource,
                 dbt: DbtCliResource, variables: dict[str, str]) -> Iterator[Any]:
    warehouse = warehouse_resource.get(tenant.dataset)
    models = _selected_models(context)
    missing = _missing_sources(warehouse, models)
    if missing:
        raise Failure(description=(
            f"The models {', '.join(m['name'] for m in models)} need {', '.join(tenant.key(t).to_user_string() for t in missing)}, "
            f"not loaded yet: materialize them first, then these models."), allow_retries=False)
    cwd = os.getcwd()
    settings = {SETTINGS[name]: str(value) for name, value in variables.items()}
    # dbt's target folder of this invocation (compiled SQL, run results, its log) is removed after it:
    # dagster-dbt's default keeps one folder per run inside the project, without end
    with tempfile.TemporaryDirectory(prefix="lms-dbt-") as target, warehouse.file_lock(), dbt_profile(warehouse, settings), \
            partial_parse(warehouse, Path(target)):
        # checks alone run as `dbt test`: `dbt build` would skip the tests of a model downstream of one whose test failed
        command = "build" if models else "test"
        invocation = dbt.cli([command], context=context, raise_on_error=False, target_path=Path(target))
        invocation.manifest = _runtime_manifest(warehouse)
        # dagster-dbt reads each model's columns on a pool of threads, each entering the dbt project's folder
        # with pushd; interleaved, they left this process in lms_assets/dbt/, and the next load's relative
        # DuckDB path pointed at a new file there. One thread, and the folder restored, whatever happens.
        invocation.postprocessing_threadpool_num_threads = 1
        try:
            events = list(invocation.stream().fetch_column_metadata())
        finally:
            _release_adapter(invocation)
            os.chdir(cwd)
        sentence = _failure_sentence(invocation, tenant)
    if sentence:
        raise Failure(description=sentence, allow_retries=False)
    built = {context.asset_key_for_output(e.output_name) for e in events if isinstance(e, Output)}
    extras = extra_metadata(warehouse, tenant, built, variables)
    for event in events:
        if isinstance(event, Output):
            key = context.asset_key_for_output(event.output_name)
            yield event.with_metadata({**event.metadata, **extras.get(key, {})})
        elif isinstance(event, AssetCheckResult):
            yield _check_result(event)
        else:
            yield event
