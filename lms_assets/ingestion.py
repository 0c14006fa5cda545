"""The LMS resources as Dagster assets: `lms/content`, `lms/users` and daily-partitioned `lms/activities`.

Dimensions and activities are separate `@dlt_assets` with their own dlt pipeline names: one
partitions definition per multi-asset, and state that never collides.
"""


import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
)
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from lms_assets.partitions import daily_partitions
from lms_assets.settings import API_POOL, start_date
from lms_assets.sources.lms import RequestStats, lms_source
from lms_assets.deletes import mark_deleted
from lms_assets.errors import as_failure
from lms_assets.warehouse import (
    DATASET,
    destination_type,
    make_pipeline,
    pipelines_dir,
    timestamp_sql,
    write_lock,
)

GROUP = "lms_ingestion"
OWNERS = ["team:data-engineering"]
DESCRIPTIONS = {
    "content": "Learning content (courses, videos, articles, quizzes) from the LMS API `/v1/contents`, merged on `id`.",
    "users": "LMS users with their profile and status fields from `/v1/users`, merged on `id`.",
    "activities": (
        "Learner activity from `/v1/activities`, one UTC day per partition: a run loads exactly the "
        "activities with window start <= `date` < window end, merged on `id`."
    ),
}


class LmsTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData):
        name = data.resource.name
        return super().get_asset_spec(data).replace_attributes(
            key=AssetKey(["lms", name]),
            deps=[],  # the API is the source; no phantom `lms_<name>` upstream
            group_name=GROUP,
            description=DESCRIPTIONS[name],
            owners=OWNERS,
            tags={"source": "lms_api"},
        )


def _definition_source(*resources: str):
    # Placeholders only: loading the definitions needs no secret and makes no call. Every run
    # rebuilds the source from dlt's config (see `_run`), so these values are never used.
    return lms_source(base_url="http://lms.invalid", username="", password="", start_date=start_date()).with_resources(*resources)


def _definition_pipeline(name: str) -> dlt.Pipeline:
    # Only describes the assets (every run builds its own). dlt creates a working directory for
    # any pipeline object, so keep these in a private temp dir: code locations loading at the
    # same moment (two `dagster asset materialize`) must not race on a shared one.
    return dlt.pipeline(pipeline_name=name, destination=destination_type(), dataset_name=DATASET,
                        pipelines_dir=_DEFINITIONS_DIR)


_DEFINITIONS_DIR = tempfile.mkdtemp(prefix="lms-assets-definitions-")
atexit.register(shutil.rmtree, _DEFINITIONS_DIR, ignore_errors=True)


def _run(context: AssetExecutionContext, dlt_resource: DagsterDltResource, name: str,
         resources: tuple[str, ...], soft_deletes: bool = False, **window: Any) -> Iterator[MaterializeResult]:
    stats = RequestStats()
    progress_every = float(os.environ.get("LMS_PROGRESS_EVERY_S", "10"))
    workdir_root = pipelines_dir()
    workdir_root.mkdir(parents=True, exist_ok=True)
    # A working directory of its own per run: dagster-dlt drops the pipeline's local state at
    # the start of every run and dlt has no lock, so two concurrent runs must not share one.
    with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=workdir_root) as workdir, write_lock():
        try:
            source = lms_source(request_stats=stats, progress=lambda p: context.log.info(p.message()),
                                progress_every_s=progress_every, **window).with_resources(*resources)
            pipeline = make_pipeline(name, working_dir=Path(workdir))
            results = list(dlt_resource.run(context=context, dlt_source=source, dlt_pipeline=pipeline))
            load_info = pipeline.last_trace.last_load_info
            load_ids = list(load_info.loads_ids) if load_info else []
            deleted: dict[str, int] = {}
            by_type: dict[str, int] = {}
            if load_ids and (soft_deletes or window):
                with pipeline.sql_client() as client:
                    for result in results:
                        table = result.asset_key.path[-1]
                        if soft_deletes:
                            deleted[table] = mark_deleted(client, table, load_ids)
                        if table == "activities":
                            by_type = activity_types(client, window["window_start"], window["window_end"])
        except Exception as exc:  # noqa: BLE001 - translated into one sentence for the UI, then re-raised
            raise as_failure(exc) from exc
    new_columns = _new_columns(load_info)
    shared: dict[str, Any] = {
        "pages_fetched": MetadataValue.int(stats.total_pages),
        "retries": MetadataValue.int(stats.total_retries),
        "dlt_load_ids": MetadataValue.text(",".join(load_ids)),
    }
    if window:
        shared["window_start"] = MetadataValue.text(window["window_start"].isoformat())
        shared["window_end"] = MetadataValue.text(window["window_end"].isoformat())
    for result in results:
        table = result.asset_key.path[-1]
        extra = {**shared, "new_columns": MetadataValue.text(", ".join(new_columns.get(table, [])) or "none")}
        if table in deleted:
            extra["marked_deleted"] = MetadataValue.int(deleted[table])
        if table == "activities":
            extra["activities_by_type"] = MetadataValue.md(
                "| type | activities |\n|---|---|\n" + "\n".join(f"| {t} | {n} |" for t, n in by_type.items()))
        yield MaterializeResult(asset_key=result.asset_key, metadata={**(result.metadata or {}), **extra})


def activity_types(client, start, end) -> dict[str, int]:
    """Activities of the window by type, the first thing a person asks of a load."""
    try:
        rows = client.execute_sql(
            f"SELECT COALESCE(type, '(none)'), COUNT(*) FROM lms.activities "
            f"WHERE date >= {timestamp_sql(start)} AND date < {timestamp_sql(end)} GROUP BY 1 ORDER BY 2 DESC, 1")
    except DatabaseUndefinedRelation:  # dlt creates the table with its first row
        return {}
    return {t: int(n) for t, n in rows}


def _new_columns(load_info) -> dict[str, list[str]]:
    """Columns this load added to each table: schema drift a person should see."""
    added: dict[str, list[str]] = {}
    for package in (load_info.load_packages if load_info else []):
        for table, schema in (package.schema_update or {}).items():
            cols = [c for c in schema.get("columns", {}) if not c.startswith("_dlt")]
            added.setdefault(table, []).extend(c for c in cols if c not in added.get(table, []))
    return added


@dlt_assets(
    dlt_source=_definition_source("content", "users"),
    dlt_pipeline=_definition_pipeline("lms_dimensions"),
    name="lms_dimensions",
    dagster_dlt_translator=LmsTranslator(),
    pool=API_POOL,
)
def lms_dimensions(context: AssetExecutionContext, dlt: DagsterDltResource):
    yield from _run(context, dlt, "lms_dimensions", ("content", "users"), soft_deletes=True)


@dlt_assets(
    dlt_source=_definition_source("activities"),
    dlt_pipeline=_definition_pipeline("lms_activities"),
    name="lms_activities",
    dagster_dlt_translator=LmsTranslator(),
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),  # one pass over the API for a whole range
    pool=API_POOL,
)
def lms_activities(context: AssetExecutionContext, dlt: DagsterDltResource):
    window = context.partition_time_window
    yield from _run(context, dlt, "lms_activities", ("activities",),
                    window_start=window.start, window_end=window.end)
