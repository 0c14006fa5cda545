"""The materialization metadata of a load, from one place: Dagster's standard keys, then the load's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from dagster import AssetMaterialization, MaterializeResult, MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from lms_assets.tenant.ingestion.load import Load
from lms_assets.tenant.keys import WINDOWED
from lms_assets.tenant.models.project import source_columns


def column_schema(columns: dict[str, dict[str, Any]], descriptions: dict[str, str] | None = None) -> TableSchema:
    """dlt's schema of a table as `dagster/column_schema` (dlt's data types; `_dlt_*` columns included), with
    the descriptions written once in the dbt project's sources.yml."""
    return TableSchema(columns=[
        TableColumn(name=name, type=str(col.get("data_type") or "unknown"), description=(descriptions or {}).get(name),
                    constraints=TableColumnConstraints(nullable=bool(col.get("nullable", True))))
        for name, col in columns.items()])


def _standard(load: Load, table: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "dagster/row_count": MetadataValue.int(load.table_rows.get(table, 0)),
        "dagster/table_name": MetadataValue.text(load.table_names.get(table, f"{load.tenant.dataset}.{table}")),
    }
    if load.columns.get(table):
        meta["dagster/column_schema"] = MetadataValue.table_schema(column_schema(load.columns[table], source_columns().get(table)))
    if load.window and table in WINDOWED:
        meta["dagster/partition_row_count"] = MetadataValue.int(load.window_rows or 0)
    return meta


def with_load_metadata(load: Load) -> Iterator[MaterializeResult]:
    """One result per loaded table: the standard keys, then pages, requests, slices, new columns, deletes, types."""
    shared: dict[str, Any] = {
        "pages_fetched": MetadataValue.int(load.stats.total_pages),
        "requests": MetadataValue.int(load.stats.requests),
        "peak_requests_in_flight": MetadataValue.int(load.stats.throttle.peak_in_flight if load.stats.throttle else 0),
        "retries": MetadataValue.int(load.stats.total_retries),
        "listing_rereads": MetadataValue.int(load.stats.total_rereads),
        "dlt_load_ids": MetadataValue.text(",".join(load.load_ids)),
    }
    if load.window:
        shared["window_start"] = MetadataValue.text(load.window.start.isoformat())
        shared["window_end"] = MetadataValue.text(load.window.end.isoformat())
        shared["slices_committed"] = MetadataValue.int(len(load.committed))
        shared["days_kept_from_earlier_runs"] = MetadataValue.int(sum((b - a).days for a, b in load.skipped))
    for table in load.tables:
        extra = {**_standard(load, table), **shared,
                 "rows_loaded": MetadataValue.int(load.rows_loaded.get(table, 0)),
                 "new_columns": MetadataValue.text(", ".join(load.new_columns.get(table, [])) or "none")}
        if table in load.marked_deleted:
            extra["marked_deleted"] = MetadataValue.int(load.marked_deleted[table])
        if load.unlisted is not None:
            extra["resync"] = MetadataValue.bool(True)
        if table == "activities":
            extra["activities_by_type"] = MetadataValue.md("| type | activities |\n|---|---|\n" + "\n".join(
                f"| {t} | {n} |" for t, n in load.activities_by_type.items()))
        yield MaterializeResult(asset_key=load.tenant.key(table), metadata=extra)


def day_materializations(load: Load, start: datetime, end: datetime, per_day: dict[datetime, int]) -> list[AssetMaterialization]:
    """The days of a committed slice as materialized partitions, before the run ends (or fails)."""
    load_id = load.load_ids[-1] if load.load_ids else ""
    table = load.tables[0]
    return [AssetMaterialization(asset_key=load.tenant.key(table), partition=day.strftime("%Y-%m-%d"), metadata={
        "dagster/partition_row_count": MetadataValue.int(rows),
        "dagster/table_name": MetadataValue.text(load.table_names.get(table, f"{load.tenant.dataset}.{table}")),
        "slice_start": MetadataValue.text(start.isoformat()),
        "slice_end": MetadataValue.text(end.isoformat()),
        "dlt_load_id": MetadataValue.text(load_id),
    }) for day, rows in per_day.items()]
