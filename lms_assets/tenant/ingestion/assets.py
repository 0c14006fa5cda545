"""A tenant's LMS resources as Dagster assets: `<prefix>/content` and `<prefix>/users`; `<prefix>/audiences`,
`<prefix>/audience_members`, `<prefix>/assignments` and `<prefix>/enrolments`; daily-partitioned
`<prefix>/activities` and `<prefix>/cpd_entries`.

Each group is a `@dlt_assets` with its own dlt pipeline name (`<prefix>_dimensions`, ...): one partitions
definition per multi-asset, and state (the enrolments' cursor, the windows' incrementals) that never
collides, within a tenant or across tenants.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import dlt
from dagster import AssetExecutionContext, BackfillPolicy
from dagster_dlt import dlt_assets

from lms_assets.sources.lms.pii import PiiPolicy
from lms_assets.tenant.ingestion.load import LoadWindow, run_load
from lms_assets.tenant.ingestion.metadata import day_materializations, with_load_metadata
from lms_assets.tenant.ingestion.translator import LmsTranslator
from lms_assets.tenant.keys import ASSIGNMENT_RESOURCES, DIMENSION_RESOURCES, RESYNC_TAG
from lms_assets.tenant.partitions import partitions_for
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.tenant import Tenant

_PREFIX = "lms-assets-definitions-"


def _definitions_dir() -> str:
    """A private temp dir for this process's describing pipelines, and the sweep of dead processes' ones.

    At import, because `@dlt_assets` needs a pipeline object to describe the assets and dlt creates
    a working directory for any pipeline: one per process, so code locations loading at the same
    moment (two `dagster asset materialize`) do not race on a shared one. `atexit` removes it on a
    normal exit, but not after SIGKILL or SIGTERM (a cancelled run's process, `dagster dev` stopped),
    so the directory is named for its process and the next load removes those whose process is gone.
    """
    for stale in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        pid = stale.name[len(_PREFIX):].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    path = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


_DEFINITIONS_DIR = _definitions_dir()


def _described(tenant: Tenant):
    # Placeholders only: loading the definitions needs no secret and makes no call. Every run
    # rebuilds the source from the tenant's config (see load.py), so these values are never used.
    # Built once per tenant (each `with_resources` is a clone): dlt resolves a source's config in ~60 ms.
    return tenant.source_factory()(base_url="http://lms.invalid", username="placeholder", password="placeholder",
                                   start_date=tenant.first_day(), pii=PiiPolicy())


def _describing_pipeline(tenant: Tenant, name: str) -> dlt.Pipeline:
    # The destination type only labels the assets' kinds; every run builds its own pipeline.
    return dlt.pipeline(pipeline_name=name, destination=WarehouseResource().get().destination, dataset_name=tenant.dataset,
                        pipelines_dir=_DEFINITIONS_DIR)


def build_assets(tenant: Tenant) -> list:
    """The tenant's four `@dlt_assets`."""
    daily = partitions_for(tenant)
    described = _described(tenant)

    def multi_asset(what: str, resources: tuple[str, ...], **kwargs):
        name = tenant.name(what)  # the op and the dlt pipeline
        return name, dlt_assets(dlt_source=described.with_resources(*resources), dlt_pipeline=_describing_pipeline(tenant, name),
                                name=name, dagster_dlt_translator=LmsTranslator(tenant), pool=tenant.pool, **kwargs)

    name, decorate = multi_asset("dimensions", DIMENSION_RESOURCES)

    @decorate
    def dimensions(context: AssetExecutionContext, warehouse: WarehouseResource):
        resync = context.run.tags.get(RESYNC_TAG) == "true"  # the <prefix>_dimensions_resync job
        load = run_load(context, warehouse, tenant, name, DIMENSION_RESOURCES, soft_deletes=True, resync=resync)
        yield from with_load_metadata(load)

    assignments_name, decorate = multi_asset("assignments", ASSIGNMENT_RESOURCES)

    @decorate
    def assignments(context: AssetExecutionContext, warehouse: WarehouseResource):
        # Audiences, members and assignments are complete listings (soft deletes); enrolments are read
        # per assignment from dlt's cursor on updatedAt, kept in the pipeline's state in the warehouse.
        load = run_load(context, warehouse, tenant, assignments_name, ASSIGNMENT_RESOURCES, soft_deletes=True)
        yield from with_load_metadata(load)

    # Activities and CPD entries: a range is one run (one pass over the API), committed in slices of whole
    # days reported as they commit.
    windowed = {"partitions_def": daily, "backfill_policy": BackfillPolicy.single_run()}
    activities_name, decorate = multi_asset("activities", ("activities",), **windowed)

    @decorate
    def activities(context: AssetExecutionContext, warehouse: WarehouseResource):
        yield from _windowed_load(context, warehouse, tenant, activities_name, "activities")

    cpd_name, decorate = multi_asset("cpd", ("cpd_entries",), **windowed)

    @decorate
    def cpd(context: AssetExecutionContext, warehouse: WarehouseResource):
        yield from _windowed_load(context, warehouse, tenant, cpd_name, "cpd_entries")

    return [dimensions, activities, assignments, cpd]


def _windowed_load(context: AssetExecutionContext, warehouse: WarehouseResource, tenant: Tenant, pipeline: str, table: str):
    # Each slice committed before the last is reported at once, day by day: a run that fails (or
    # is killed) later still shows the days it committed as materialized partitions.
    def committed(load, start, end, per_day):
        for event in day_materializations(load, start, end, per_day):
            context.log_event(event)

    load = run_load(context, warehouse, tenant, pipeline, (table,), window=LoadWindow.of(context), on_commit=committed)
    yield from with_load_metadata(load)
