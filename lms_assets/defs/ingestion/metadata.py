"""The materialization metadata of a load, from one function: pages, retries, re-reads, window, new columns, deletes, types."""

from __future__ import annotations

from typing import Any, Iterator

from dagster import MaterializeResult, MetadataValue

from lms_assets.defs.ingestion.load import Load


def new_columns(load_info) -> dict[str, list[str]]:
    """Columns this load added to each table: schema drift a person should see."""
    added: dict[str, list[str]] = {}
    for package in (load_info.load_packages if load_info else []):
        for table, schema in (package.schema_update or {}).items():
            cols = [c for c in schema.get("columns", {}) if not c.startswith("_dlt")]
            added.setdefault(table, []).extend(c for c in cols if c not in added.get(table, []))
    return added


def with_load_metadata(load: Load) -> Iterator[MaterializeResult]:
    """dagster-dlt's results, each with the load's metadata added."""
    added = new_columns(load.load_info)
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
    for result in load.results:
        table = result.asset_key.path[-1]
        extra = {**shared, "new_columns": MetadataValue.text(", ".join(added.get(table, [])) or "none")}
        if table in load.marked_deleted:
            extra["marked_deleted"] = MetadataValue.int(load.marked_deleted[table])
        if table == "activities":
            extra["activities_by_type"] = MetadataValue.md("| type | activities |\n|---|---|\n" + "\n".join(
                f"| {t} | {n} |" for t, n in load.activities_by_type.items()))
        yield MaterializeResult(asset_key=result.asset_key, metadata={**(result.metadata or {}), **extra})
