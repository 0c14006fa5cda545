"""One LMS load inside a Dagster run: source and pipeline built from the run's window, run, then the
warehouse-side steps that belong to the load (soft deletes, counts by type), all under one lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from dagster import AssetExecutionContext, MaterializeResult
from dagster_dlt import DagsterDltResource
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from lms_assets.defs.config import progress_every_s
from lms_assets.defs.ingestion.errors import as_failure
from lms_assets.defs.resources import WarehouseResource
from lms_assets.sources.lms import RequestStats, lms_source
from lms_assets.warehouse import window_sql
from lms_assets.warehouse.deletes import mark_deleted


@dataclass(frozen=True)
class LoadWindow:
    """The half-open activity window `[start, end)` a partitioned run loads."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, context: AssetExecutionContext) -> "LoadWindow":
        window = context.partition_time_window
        return cls(window.start, window.end)


@dataclass
class Load:
    """What one load did: dagster-dlt's results, the API requests, and what the warehouse said after."""

    results: list[MaterializeResult]
    stats: RequestStats
    load_info: object
    window: Optional[LoadWindow] = None
    marked_deleted: dict[str, int] = field(default_factory=dict)
    activities_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def load_ids(self) -> list[str]:
        return list(self.load_info.loads_ids) if self.load_info else []


def run_load(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource,
             pipeline_name: str, resources: tuple[str, ...], window: Optional[LoadWindow] = None,
             soft_deletes: bool = False) -> Load:
    stats = RequestStats()
    store = warehouse.get()
    with store.run_dir(pipeline_name) as workdir, store.write_lock():
        try:
            source = lms_source(
                request_stats=stats, progress=lambda p: context.log.info(p.message()), progress_every_s=progress_every_s(),
                **({"window_start": window.start, "window_end": window.end} if window else {}),
            ).with_resources(*resources)
            pipeline = store.pipeline(pipeline_name, working_dir=workdir)
            results = list(dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline))
            load = Load(results, stats, pipeline.last_trace.last_load_info, window)
            if load.load_ids:
                with pipeline.sql_client() as client:
                    for table in (r.asset_key.path[-1] for r in results):
                        if soft_deletes:
                            load.marked_deleted[table] = mark_deleted(client, table, load.load_ids)
                        if table == "activities" and window:
                            load.activities_by_type = activity_types(client, window)
        except Exception as exc:  # noqa: BLE001 - translated into one sentence for the UI, then re-raised
            raise as_failure(exc) from exc
    return load


def activity_types(client, window: LoadWindow) -> dict[str, int]:
    """Activities of the window by type, the first thing a person asks of a load."""
    try:
        rows = client.execute_sql(
            f"SELECT COALESCE(type, '(none)'), COUNT(*) FROM lms.activities "
            f"WHERE {window_sql('date', window.start, window.end)} GROUP BY 1 ORDER BY 2 DESC, 1")
    except DatabaseUndefinedRelation:  # dlt creates the table with its first row
        return {}
    return {t: int(n) for t, n in rows}
