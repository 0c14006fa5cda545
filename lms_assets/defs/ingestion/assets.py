"""The LMS resources as Dagster assets: `lms/content` and `lms/users`; `lms/audiences`, `lms/audience_members`,
`lms/assignments` and `lms/enrolments`; daily-partitioned `lms/activities` and `lms/cpd_entries`.

Each group is a `@dlt_assets` with its own dlt pipeline name: one partitions definition per
multi-asset, and state (the enrolments' cursor, the windows' incrementals) that never collides.
"""

import atexit
import shutil
import tempfile

import dlt
from dagster import AssetExecutionContext, BackfillPolicy
from dagster_dlt import dlt_assets

from lms_assets.defs.config import start_date
from lms_assets.defs.ingestion.load import LoadWindow, run_load
from lms_assets.defs.ingestion.metadata import day_materializations, with_load_metadata
from lms_assets.defs.ingestion.translator import LmsTranslator
from lms_assets.defs.keys import API_POOL, ASSIGNMENT_RESOURCES, DIMENSION_RESOURCES, RESYNC_TAG
from lms_assets.defs.partitions import daily_partitions
from lms_assets.defs.resources import WarehouseResource
from lms_assets.sources.lms import lms_source
from lms_assets.sources.lms.pii import PiiPolicy
from lms_assets.warehouse import DATASET

# At import, because `@dlt_assets` needs a pipeline object to describe the assets and dlt creates
# a working directory for any pipeline: a private temp dir per process, so code locations loading
# at the same moment (two `dagster asset materialize`) do not race on a shared one.
_DEFINITIONS_DIR = tempfile.mkdtemp(prefix="lms-assets-definitions-")
atexit.register(shutil.rmtree, _DEFINITIONS_DIR, ignore_errors=True)


def _described(*resources: str):
    # Placeholders only: loading the definitions needs no secret and makes no call. Every run
    # rebuilds the source from dlt's config (see load.py), so these values are never used.
    return lms_source(base_url="http://lms.invalid", username="placeholder", password="placeholder",
                      start_date=start_date(), pii=PiiPolicy()).with_resources(*resources)


def _describing_pipeline(name: str) -> dlt.Pipeline:
    # The destination type only labels the assets' kinds; every run builds its own pipeline.
    return dlt.pipeline(pipeline_name=name, destination=WarehouseResource().get().destination, dataset_name=DATASET,
                        pipelines_dir=_DEFINITIONS_DIR)


@dlt_assets(
    dlt_source=_described("content", "users"),
    dlt_pipeline=_describing_pipeline("lms_dimensions"),
    name="lms_dimensions",
    dagster_dlt_translator=LmsTranslator(),
    pool=API_POOL,
)
def lms_dimensions(context: AssetExecutionContext, warehouse: WarehouseResource):
    resync = context.run.tags.get(RESYNC_TAG) == "true"  # the lms_dimensions_resync job
    load = run_load(context, warehouse, "lms_dimensions", DIMENSION_RESOURCES, soft_deletes=True, resync=resync)
    yield from with_load_metadata(load)


@dlt_assets(
    dlt_source=_described(*ASSIGNMENT_RESOURCES),
    dlt_pipeline=_describing_pipeline("lms_assignments"),
    name="lms_assignments",
    dagster_dlt_translator=LmsTranslator(),
    pool=API_POOL,
)
def lms_assignments(context: AssetExecutionContext, warehouse: WarehouseResource):
    # Audiences, members and assignments are complete listings (soft deletes); enrolments are read
    # per assignment from dlt's cursor on updatedAt, kept in the pipeline's state in the warehouse.
    load = run_load(context, warehouse, "lms_assignments", ASSIGNMENT_RESOURCES, soft_deletes=True)
    yield from with_load_metadata(load)


@dlt_assets(
    dlt_source=_described("activities"),
    dlt_pipeline=_describing_pipeline("lms_activities"),
    name="lms_activities",
    dagster_dlt_translator=LmsTranslator(),
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),  # one pass over the API for a whole range
    pool=API_POOL,
)
def lms_activities(context: AssetExecutionContext, warehouse: WarehouseResource):
    yield from _windowed_load(context, warehouse, "lms_activities", "activities")


@dlt_assets(
    dlt_source=_described("cpd_entries"),
    dlt_pipeline=_describing_pipeline("lms_cpd"),
    name="lms_cpd",
    dagster_dlt_translator=LmsTranslator(),
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool=API_POOL,
)
def lms_cpd(context: AssetExecutionContext, warehouse: WarehouseResource):
    # Like activities: a range is one run, committed in slices of whole days reported as they commit.
    yield from _windowed_load(context, warehouse, "lms_cpd", "cpd_entries")


def _windowed_load(context: AssetExecutionContext, warehouse: WarehouseResource, pipeline: str, table: str):
    # Each slice committed before the last is reported at once, day by day: a run that fails (or
    # is killed) later still shows the days it committed as materialized partitions.
    def committed(load, start, end, per_day):
        for event in day_materializations(load, start, end, per_day):
            context.log_event(event)

    load = run_load(context, warehouse, pipeline, (table,), window=LoadWindow.of(context), on_commit=committed)
    yield from with_load_metadata(load)
