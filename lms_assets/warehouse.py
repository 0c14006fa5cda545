"""Where loads go: the dlt destination, the pipelines' working directory, and DuckDB's one-writer rule.

Everything here is read from the environment and dlt's config at call time, never at import,
so loading the Dagster definitions needs no secret and touches no database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Optional

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATASET = "lms"
DEFAULT_DUCKDB = PROJECT_ROOT / "data" / "warehouse.duckdb"
SUPPORTED = ("duckdb", "postgres", "motherduck", "snowflake", "bigquery")


def destination_type() -> str:
    kind = os.environ.get("LMS_DESTINATION", "duckdb").strip().lower() or "duckdb"
    if kind not in SUPPORTED:
        raise ValueError(f"LMS_DESTINATION is {kind!r}: set it to one of {', '.join(SUPPORTED)} (default duckdb).")
    return kind


def duckdb_path() -> Path:
    """The DuckDB file, from dlt's own key `destination.duckdb.credentials` (env DESTINATION__DUCKDB__CREDENTIALS)."""
    configured = dlt.config.get("destination.duckdb.credentials")
    path = Path(str(configured)) if configured else DEFAULT_DUCKDB
    return path if path.is_absolute() else (Path.cwd() / path)


def make_destination() -> Any:
    kind = destination_type()
    if kind == "duckdb":
        path = duckdb_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        credentials = DuckDbCredentials(str(path))
        # DuckDB's buffer pool defaults to 80% of RAM and set the peak of a backfill's merge
        # (845 MiB at 1M activities, measured in bench/); it spills to disk past this instead.
        credentials.global_config = {"memory_limit": os.environ.get("LMS_DUCKDB_MEMORY_LIMIT", "128MB")}
        return dlt.destinations.duckdb(credentials=credentials)
    return kind  # dlt resolves the credentials from its own config keys


def pipelines_dir() -> Path:
    """dlt's working directory: `LMS_PIPELINES_DIR`, else `data/dlt` in the project (never /var/dlt)."""
    configured = os.environ.get("LMS_PIPELINES_DIR")
    return Path(configured) if configured else PROJECT_ROOT / "data" / "dlt"


def make_pipeline(name: str, working_dir: Optional[Path] = None, **kwargs: Any) -> dlt.Pipeline:
    # Arrow tables (activities) get `_dlt_load_id`/`_dlt_id` like JSON rows do, wherever the
    # code runs from: the soft deletes and the window check read the load id of every row.
    for key in ("add_dlt_load_id", "add_dlt_id"):
        if dlt.config.get(f"normalize.parquet_normalizer.{key}") is None:
            dlt.config[f"normalize.parquet_normalizer.{key}"] = True
    # Rotate files every 100k rows, so normalize (which rewrites each Arrow file whole to add
    # the dlt columns) and the loader work on bounded files rather than one per backfill.
    for stage in ("extract", "normalize"):
        if dlt.config.get(f"{stage}.data_writer.file_max_items") is None:
            dlt.config[f"{stage}.data_writer.file_max_items"] = 100_000
    return dlt.pipeline(
        pipeline_name=name,
        destination=make_destination(),
        dataset_name=DATASET,
        pipelines_dir=str(working_dir or pipelines_dir()),
        **kwargs,
    )


@contextlib.contextmanager
def write_lock() -> Iterator[None]:
    """Serialise access to a DuckDB file across processes; a no-op for server databases.

    DuckDB lets one process open a file at a time, so a second concurrent load (or a
    summary query) waits here instead of failing with "Could not set lock on file".
    """
    if destination_type() != "duckdb":
        yield
        return
    path = duckdb_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def sql_client() -> Iterator[Any]:
    """dlt's SQL client on the `lms` dataset, for SQL the summaries and checks run in place.

    Holds the DuckDB lock for as long as it is open: DuckDB will not let a second process
    open the file, not even to read, while a load writes to it.
    """
    with write_lock(), tempfile.TemporaryDirectory(prefix="lms-sql-") as workdir:
        pipeline = make_pipeline("lms_sql", working_dir=Path(workdir))
        with pipeline.sql_client() as client:
            yield client


def utc_day_sql(column: str) -> str:
    """The UTC calendar day of a timestamptz column, whatever the session's time zone (DuckDB and PostgreSQL)."""
    return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"


def timestamp_sql(value: datetime) -> str:
    """A timestamptz literal both DuckDB and PostgreSQL read the same (the value is ours, never user text)."""
    return f"TIMESTAMP WITH TIME ZONE '{value.isoformat()}'"


def load_ids_sql(load_ids: list[str]) -> str:
    """dlt load ids as an SQL `IN` list (`NULL` when empty); they are numeric strings, anything else is dropped."""
    return ", ".join(f"'{i}'" for i in load_ids if i.replace(".", "").isdigit()) or "NULL"
