"""One LMS load inside a Dagster run, committed slice by slice, with the warehouse lock only around the database.

dagster-dlt's `DagsterDltResource.run` is one `pipeline.run`: one commit at the end, and on DuckDB
the file lock held through the API reads. A year's backfill that dies at 90% would keep nothing,
and two partition runs could not overlap their downloads. So the run drives dlt's own steps:
per slice of whole days, extract and normalize without the lock, then load, log the slice in
`<dataset>._lms_windows` and count under it (issue #13).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from dagster import AssetExecutionContext
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from lms_assets.sources.lms import RequestStats
from lms_assets.sources.lms.malloc_arenas import limit_malloc_arenas
from lms_assets.sources.lms.read_ahead import ReadAhead
from lms_assets.tenant.config import commit_every_days, progress_every_s, read_ahead_days
from lms_assets.tenant.ingestion.errors import as_failure
from lms_assets.tenant.ingestion.slices import DAY, days_of, slices
from lms_assets.tenant.keys import SOFT_DELETED, WINDOWED
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import load_log, pending, qualified_table_name, window_sql
from lms_assets.warehouse.deletes import mark_deleted
from lms_assets.warehouse.outage import WarehouseUnavailableError


def _utc(value: datetime) -> datetime:
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc)


@dataclass(frozen=True)
class LoadWindow:
    """The half-open activity window `[start, end)` a partitioned run loads."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, context: AssetExecutionContext) -> "LoadWindow":
        window = context.partition_time_window
        return cls(_utc(window.start), _utc(window.end))


@dataclass
class Load:
    """What one run's load did: slices committed or skipped, API requests, and what the warehouse said after."""

    tables: tuple[str, ...]
    stats: RequestStats
    tenant: Tenant
    window: Optional[LoadWindow] = None
    load_ids: list[str] = field(default_factory=list)
    rows_loaded: Counter = field(default_factory=Counter)
    new_columns: dict[str, list[str]] = field(default_factory=dict)
    committed: list[load_log.Committed] = field(default_factory=list)
    skipped: list[tuple[datetime, datetime]] = field(default_factory=list)
    marked_deleted: dict[str, int] = field(default_factory=dict)
    activities_by_type: dict[str, int] = field(default_factory=dict)
    table_rows: dict[str, int] = field(default_factory=dict)
    window_rows: Optional[int] = None
    table_names: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    unlisted: Optional[dict[str, list[dict]]] = None  # a re-sync: the rows each table held before it


# Called after each committed slice but the run's last: (the load so far, slice start, slice end, rows per UTC day).
OnCommit = Callable[["Load", datetime, datetime, dict[datetime, int]], None]


def run_load(context: AssetExecutionContext, warehouse: WarehouseResource, tenant: Tenant, pipeline_name: str,
             resources: tuple[str, ...], window: Optional[LoadWindow] = None, soft_deletes: bool = False,
             on_commit: Optional[OnCommit] = None, resync: bool = False) -> Load:
    limit_malloc_arenas()  # before the database and the reads start their threads
    tables = tuple(r for r in resources if tenant.key(r) in context.selected_asset_keys)
    load = Load(tables, RequestStats(), tenant, window)
    store = warehouse.get(tenant.dataset)
    ahead: Optional[ReadAhead] = None
    with store.run_dir(pipeline_name) as workdir:
        try:
            pipeline = store.pipeline(pipeline_name, working_dir=workdir)
            store.ride_out(lambda: _begin(context, store, pipeline, load, resources, resync),
                           f"connecting to load {_names(load)}", context.log.info)
            todo = slices(window.start, window.end, commit_every_days(), load.skipped) if window else [None]
            if window and load.skipped:
                context.log.info(f"Retry: {len(days_of(window.start, window.end)) - sum(len(days_of(a, b)) for a, b in todo)} "
                                 f"day(s) committed by the runs before it are kept, {len(todo)} slice(s) to load.")
            # Once a slice is extracted, the next one's first days are read while it is committed (read_ahead.py).
            ahead = ReadAhead(read_ahead_days()) if window and "activities" in load.tables else None
            _load_slices(context, store, pipeline, load, todo, Slicing(soft_deletes, on_commit, ahead))
            store.ride_out(lambda: _describe(store, pipeline, load), f"reading back {_names(load)}", context.log.info)
        except Exception as exc:  # noqa: BLE001 - translated into one sentence for the UI, then re-raised
            raise as_failure(exc, tenant) from exc
        finally:
            if ahead is not None:
                ahead.close()
    return load


def _begin(context: AssetExecutionContext, store, pipeline, load: Load, resources: tuple[str, ...], resync: bool) -> None:
    """The stored schema and state, as `pipeline.run` would restore them (types stay as loaded), and what a retry keeps."""
    run = context.run
    with store.write_lock():
        pipeline.sync_destination()
        with pipeline.sql_client() as client:
            load.table_names = {table: qualified_table_name(client, table) for table in load.tables}
            if load.window:  # a retry (of the run, or of the step in it) keeps what its family committed
                windowed_table = next(t for t in resources if t in WINDOWED)
                load.skipped = load_log.committed_windows(client, windowed_table, run.root_run_id or run.run_id)
            if resync:
                load.unlisted = {table: table_rows(client, table) for table in load.tables}


def _describe(store, pipeline, load: Load) -> None:
    with store.write_lock(), pipeline.sql_client() as client:
        _describe_tables(client, pipeline, load)


@dataclass(frozen=True)
class Slicing:
    soft_deletes: bool
    on_commit: Optional[OnCommit]
    ahead: Optional[ReadAhead]


def _load_slices(context: AssetExecutionContext, store, pipeline, load: Load, todo: list, how: Slicing) -> None:
    """Each slice extracted, normalized and committed in turn; a slice a failed attempt kept is loaded as kept."""
    source = None
    marks = _api_totals(load)
    for number, part in enumerate(todo, start=1):
        following = todo[number] if number < len(todo) else None
        kept = _kept(store, pipeline, load, part)
        if kept is not None:
            per_day = _load_kept(context, store, pipeline, load, part, kept)
        else:
            pipeline.extract(source if source is not None else _source(context, load, part))
            now = _api_totals(load)
            api = {t: None if a is None or marks[t] is None else a - marks[t] for t, a in now.items()}
            marks = now
            source = None
            if following is not None and _kept(store, pipeline, load, following) is None:
                source = _source(context, load, following, how.ahead)
            per_day = _load_slice(context, store, pipeline, load, part, how.soft_deletes, api)
        if part and how.on_commit and number < len(todo):
            how.on_commit(load, part[0], part[1], per_day)


def _kept(store, pipeline, load: Load, part: Optional[tuple[datetime, datetime]]) -> Optional[pending.Pending]:
    return pending.find(store.pipelines_dir, pipeline.pipeline_name, load.tables, *part) if part else None


def _load_kept(context: AssetExecutionContext, store, pipeline, load: Load, part: tuple[datetime, datetime],
               kept: pending.Pending) -> dict[datetime, int]:
    """Load the slice a failed attempt of this window extracted and kept: nothing of it is asked of the API again."""
    context.log.info(f"Days {_days(part)}: loading the slice a failed attempt extracted and kept (warehouse/pending.py), "
                     "without asking the API for it again.")
    kept_pipeline = store.pipeline(pipeline.pipeline_name, working_dir=kept.directory)
    try:
        per_day = _commit(context, store, kept_pipeline, load, part, False, kept.api, kept.row_counts,
                          list(kept_pipeline.list_normalized_load_packages()))
    finally:
        pipeline.activate()  # the run's own pipeline extracts the next slice
    pending.discard(store.pipelines_dir, pipeline.pipeline_name, *part)
    return per_day


def _source(context: AssetExecutionContext, load: Load, part: Optional[tuple[datetime, datetime]],
            ahead: Optional[ReadAhead] = None):
    """The source of one slice, its tables only; with `ahead`, its window's first days begin reading now."""
    return load.tenant.source(
        request_stats=load.stats, progress=lambda p: context.log.info(p.message()), progress_every_s=progress_every_s(),
        unlisted=load.unlisted, **({"window_start": part[0], "window_end": part[1], "read_ahead": ahead} if part else {}),
    ).with_resources(*load.tables)


def _api_totals(load: Load) -> dict[str, Optional[int]]:
    return {t: load.stats.api_total(t) for t in load.tables}


def _names(load: Load) -> str:
    return ", ".join(load.table_names.get(t) or f"{load.tenant.dataset}.{t}" for t in load.tables)


def _days(part: tuple[datetime, datetime]) -> str:
    last = (part[1] - DAY).date() if part[1] - part[0] >= DAY else part[0].date()
    return f"{part[0].date()} to {last}" if last != part[0].date() else f"{last}"


def _load_slice(context: AssetExecutionContext, store, pipeline, load: Load, part: Optional[tuple[datetime, datetime]],
                soft_deletes: bool, api: dict[str, Optional[int]]) -> dict[datetime, int]:
    """Normalize the slice extracted without the lock; load, log and count it under the lock.

    `api`: what the API announced for each table's reads of this slice (read ahead of the next one is not in it).
    If the warehouse stays away, the normalized slice is kept for the next attempt of this window (pending.py).
    """
    normalized = pipeline.normalize()
    counts = {t: n for t, n in (normalized.row_counts or {}).items()}
    try:
        per_day = _commit(context, store, pipeline, load, part, soft_deletes, api, counts, list(normalized.loads_ids))
    except WarehouseUnavailableError as exc:
        if not part:
            raise
        pending.keep(store.pipelines_dir, Path(pipeline.working_dir), load.tables, *part, counts, api)
        raise exc.keeping(_days(part)) from exc
    if part:
        pending.discard(store.pipelines_dir, pipeline.pipeline_name, *part)
    return per_day


def _commit(context: AssetExecutionContext, store, pipeline, load: Load, part: Optional[tuple[datetime, datetime]],
            soft_deletes: bool, api: dict[str, Optional[int]], counts: dict[str, int], load_ids: list[str]) -> dict[datetime, int]:
    """Intent, load and log of one slice under one lock, repeated whole while the warehouse is away.

    Each step may run again: the intent and the log row replace their own, and dlt resumes a
    package where its last attempt stopped (or finds nothing left to load).
    """
    for table, rows in counts.items():
        if table in load.tables:
            load.rows_loaded[table] += rows
    load.load_ids.extend(load_ids)
    run = context.run

    def entry(table: str, rows: int) -> load_log.Committed:
        return load_log.Committed(table, part[0] if part else None, part[1] if part else None, rows, api[table],
                                  load_ids[-1] if load_ids else None, run.run_id, run.root_run_id or run.run_id)

    def attempt() -> dict[datetime, int]:
        with store.write_lock():
            if part and load_ids:
                with pipeline.sql_client() as client:
                    if not client.has_dataset():
                        client.create_dataset()
                    for table in load.tables:
                        load_log.intend(client, entry(table, counts.get(table, 0)))
            info = store.load(pipeline, sum(counts.values()), on_retry=lambda limit, _: context.log.info(
                f"DuckDB ran out of the {limit} sized for this slice's merge; loading it again within the default."))
            info.raise_on_failed_jobs()
            _note_new_columns(load, info)
            with pipeline.sql_client() as client:
                return _log_slice(client, load, part, soft_deletes, load_ids, entry)

    doing = f"writing {'days ' + _days(part) + ' of ' if part else ''}{_names(load)}"
    return store.ride_out(attempt, doing, context.log.info)


def _log_slice(client, load: Load, part: Optional[tuple[datetime, datetime]], soft_deletes: bool, load_ids: list[str],
               entry: Callable[[str, int], load_log.Committed]) -> dict[datetime, int]:
    per_day: dict[datetime, int] = {}
    for table in load.tables:
        if soft_deletes and load_ids and table in SOFT_DELETED:
            load.marked_deleted[table] = mark_deleted(client, table, load_ids, load.stats.vanished.get(table, ()))
        if part:
            per_day = rows_per_day(client, part[0], part[1], table)
            rows = sum(per_day.values())
        else:
            rows = load.rows_loaded[table]
        committed = entry(table, rows)
        load_log.record(client, committed)
        load.committed = [c for c in load.committed if (c.resource, c.window_start) != (table, committed.window_start)]
        load.committed.append(committed)
    return per_day


def table_rows(client, table: str) -> list[dict]:
    """Every row of `<table>` as a dict (a re-sync carries the ones the listing no longer returns)."""
    try:
        with client.execute_query(f"SELECT * FROM {client.make_qualified_table_name(table)}") as cursor:
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except DatabaseUndefinedRelation:
        return []


def rows_per_day(client, start: datetime, end: datetime, table: str = "activities") -> dict[datetime, int]:
    """Rows of a windowed table (activities, CPD entries) per UTC day of `[start, end)`, every day present (0 when none)."""
    days = days_of(start, end)
    column = WINDOWED[table]
    sums = ", ".join(f"SUM(CASE WHEN {window_sql(column, d, min(d + DAY, end))} THEN 1 ELSE 0 END)" for d in days)
    try:
        row = client.execute_sql(f"SELECT {sums} FROM {client.make_qualified_table_name(table)} WHERE {window_sql(column, start, end)}")[0]
    except DatabaseUndefinedRelation:  # dlt creates the table with its first row
        row = [0] * len(days)
    return {d: int(n or 0) for d, n in zip(days, row, strict=True)}


def _note_new_columns(load: Load, load_info) -> None:
    for package in load_info.load_packages or []:
        for table, schema in (package.schema_update or {}).items():
            cols = [c for c in schema.get("columns", {}) if not c.startswith("_dlt")]
            known = load.new_columns.setdefault(table, [])
            known.extend(c for c in cols if c not in known)


def _describe_tables(client, pipeline, load: Load) -> None:
    """Row counts, the qualified name and the columns of each table, for the standard metadata."""
    for table in load.tables:
        load.columns[table] = dict(pipeline.default_schema.get_table_columns(table)) if table in pipeline.default_schema.tables else {}
        try:
            load.table_rows[table] = int(client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name(table)}")[0][0])
        except DatabaseUndefinedRelation:
            load.table_rows[table] = 0
    if load.window and "activities" in load.tables:
        load.activities_by_type = activity_types(client, load.window)
        load.window_rows = sum(load.activities_by_type.values())
    elif load.window and load.tables:
        load.window_rows = sum(rows_per_day(client, load.window.start, load.window.end, load.tables[0]).values())


def activity_types(client, window: LoadWindow) -> dict[str, int]:
    """Activities of the window by type, the first thing a person asks of a load."""
    try:
        rows = client.execute_sql(
            f"SELECT COALESCE(type, '(none)'), COUNT(*) FROM {client.make_qualified_table_name('activities')} "
            f"WHERE {window_sql('date', window.start, window.end)} GROUP BY 1 ORDER BY 2 DESC, 1")
    except DatabaseUndefinedRelation:  # dlt creates the table with its first row
        return {}
    return {t: int(n) for t, n in rows}
