"""Where loads go: the dlt destination, the pipelines' working directory, and DuckDB's one-writer rule.

Plain Python (the Dagster resource in `lms_assets.tenant.resources` wraps it). Every value not
given is read from the environment and dlt's config when the warehouse is built, at run time,
never at import: loading the Dagster definitions needs no secret and touches no database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DATASET = "lms"
DEFAULT_DUCKDB = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_PIPELINES_DIR = PROJECT_ROOT / "data" / "dlt"
# DuckDB's buffer pool defaults to 80% of RAM and set the peak of a backfill's merge (845 MiB at
# 1M activities, measured in bench/); past this it spills to disk instead.
DEFAULT_DUCKDB_MEMORY_LIMIT = "128MB"
SUPPORTED = ("duckdb", "postgres", "motherduck", "snowflake", "bigquery")


def _duckdb_path_from_dlt() -> Path:
    """dlt's own key `destination.duckdb.credentials` (env DESTINATION__DUCKDB__CREDENTIALS)."""
    configured = dlt.config.get("destination.duckdb.credentials")
    return Path(str(configured)) if configured else DEFAULT_DUCKDB


@dataclass(frozen=True)
class Warehouse:
    destination: str = "duckdb"
    duckdb_path: Path = DEFAULT_DUCKDB
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    pipelines_dir: Path = DEFAULT_PIPELINES_DIR
    dataset: str = DATASET  # the warehouse schema: one per tenant

    @classmethod
    def from_env(cls, destination: Optional[str] = None, duckdb_path: Optional[str] = None,
                 duckdb_memory_limit: Optional[str] = None, pipelines_dir: Optional[str] = None,
                 dataset: str = DATASET) -> "Warehouse":
        """Given values win; the rest from LMS_DESTINATION, dlt's DuckDB key, LMS_DUCKDB_MEMORY_LIMIT, LMS_PIPELINES_DIR."""
        kind = (destination or os.environ.get("LMS_DESTINATION", "duckdb")).strip().lower() or "duckdb"
        if kind not in SUPPORTED:
            raise ValueError(f"LMS_DESTINATION is {kind!r}: set it to one of {', '.join(SUPPORTED)} (default duckdb).")
        path = Path(duckdb_path) if duckdb_path else _duckdb_path_from_dlt()
        workdir = pipelines_dir or os.environ.get("LMS_PIPELINES_DIR")
        return cls(
            destination=kind,
            duckdb_path=path if path.is_absolute() else Path.cwd() / path,
            duckdb_memory_limit=duckdb_memory_limit or os.environ.get("LMS_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
            pipelines_dir=Path(workdir) if workdir else DEFAULT_PIPELINES_DIR,
            dataset=dataset,
        )

    @property
    def is_duckdb(self) -> bool:
        return self.destination == "duckdb"

    @property
    def load_workers(self) -> int:
        """Load jobs at once: one on DuckDB, dlt's default (20) elsewhere.

        Parallel jobs into one DuckDB file share its memory limit (at 2M activities, two 100k-row
        staging inserts ran it out and dlt retried them after an ERROR with a traceback) and one
        writer anyway; sequential, the same load took 13.6 s against 14.8 s and 280 MiB against 305.
        """
        return 1 if self.is_duckdb else 20

    def dlt_destination(self) -> Any:
        if not self.is_duckdb:
            return self.destination  # dlt resolves the credentials from its own config keys
        self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        credentials = DuckDbCredentials(str(self.duckdb_path))
        credentials.global_config = {"memory_limit": self.duckdb_memory_limit}
        return dlt.destinations.duckdb(credentials=credentials)

    def pipeline(self, name: str, working_dir: Optional[Path] = None, **kwargs: Any) -> dlt.Pipeline:
        _writer_defaults()
        return dlt.pipeline(pipeline_name=name, destination=self.dlt_destination(), dataset_name=self.dataset,
                            pipelines_dir=str(working_dir or self.pipelines_dir), **kwargs)

    @contextlib.contextmanager
    def run_dir(self, name: str) -> Iterator[Path]:
        """A working directory of its own per run, removed after it.

        dagster-dlt drops the pipeline's local state at the start of every run and dlt has no
        lock, so two concurrent runs must not share one.
        """
        self.pipelines_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=self.pipelines_dir) as workdir:
            yield Path(workdir)

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Serialise access to a DuckDB file across processes; a no-op for server databases.

        DuckDB lets one process open a file at a time, so a second concurrent load (or a
        summary query) waits here instead of failing with "Could not set lock on file".
        """
        if not self.is_duckdb:
            yield
            return
        self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.duckdb_path}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                with _database_held_open(self.duckdb_path):
                    yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def sql_client(self) -> Iterator[Any]:
        """dlt's SQL client on this warehouse's dataset, holding the DuckDB lock while open.

        DuckDB will not let a second process open the file, not even to read, while a load writes to it.
        """
        with self.write_lock(), tempfile.TemporaryDirectory(prefix="lms-sql-") as workdir:
            with self.pipeline("lms_sql", working_dir=Path(workdir)).sql_client() as client:
                yield client


@contextlib.contextmanager
def _database_held_open(path: Path) -> Iterator[None]:
    """One DuckDB database instance for everything done under the lock.

    dlt opens and closes a connection for each step of a load (the package, each job, the
    completion: five per slice), and DuckDB checkpoints the file whenever its last connection
    closes: 31 opens and closes cost 1.7 s of a 30-day range run. While this connection is open,
    DuckDB hands the others the same instance (its cache of open databases, matched on the file
    and an empty configuration, as dlt connects), so the file is opened and checkpointed once.
    """
    import duckdb

    holder = duckdb.connect(str(path))
    try:
        yield
    finally:
        holder.close()


def _writer_defaults() -> None:
    # Arrow tables (activities) get `_dlt_load_id`/`_dlt_id` like JSON rows do, wherever the
    # code runs from: the soft deletes and the window check read the load id of every row.
    for key in ("add_dlt_load_id", "add_dlt_id"):
        if dlt.config.get(f"normalize.parquet_normalizer.{key}") is None:
            dlt.config[f"normalize.parquet_normalizer.{key}"] = True
    # A re-sync replaces the dimensions: loaded into staging tables, then deleted and inserted in one
    # transaction, so a reader sees the old rows or the new, never an empty table (dlt's default,
    # truncate-and-insert, empties the table first).
    if dlt.config.get("destination.replace_strategy") is None:
        dlt.config["destination.replace_strategy"] = "insert-from-staging"
    # Rotate files every 100k rows, so normalize (which rewrites each Arrow file whole to add
    # the dlt columns) and the loader work on bounded files rather than one per backfill.
    for stage in ("extract", "normalize"):
        if dlt.config.get(f"{stage}.data_writer.file_max_items") is None:
            dlt.config[f"{stage}.data_writer.file_max_items"] = 100_000


def make_pipeline(name: str, working_dir: Optional[Path] = None, **kwargs: Any) -> dlt.Pipeline:
    """A pipeline into the warehouse the environment names (tests, bench and scripts)."""
    return Warehouse.from_env().pipeline(name, working_dir=working_dir, **kwargs)
