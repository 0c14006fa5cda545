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
from typing import Any, Callable, Iterator, Optional, TypeVar

import dlt
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.load.exceptions import LoadClientJobRetry

from lms_assets.warehouse.memory import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    READ_MEMORY_LIMIT,
    exception_chain,
    is_out_of_memory,
    load_memory_limit,
    set_env,
)
from lms_assets.warehouse.outage import Place, place, ride_out

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DATASET = "lms"
DEFAULT_DUCKDB = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_PIPELINES_DIR = PROJECT_ROOT / "data" / "dlt"
T = TypeVar("T")
SUPPORTED = ("duckdb", "postgres", "motherduck", "snowflake", "bigquery")


def _duckdb_path_from_dlt() -> Path:
    """dlt's own key `destination.duckdb.credentials` (env DESTINATION__DUCKDB__CREDENTIALS)."""
    configured = dlt.config.get("destination.duckdb.credentials")
    return Path(str(configured)) if configured else DEFAULT_DUCKDB


@dataclass(frozen=True)
class Warehouse:
    destination: str = "duckdb"
    duckdb_path: Path = DEFAULT_DUCKDB
    duckdb_memory_limit: Optional[str] = None  # None: sized per load (`load_memory_limit`), 128MB for queries
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
            duckdb_memory_limit=duckdb_memory_limit or os.environ.get("LMS_DUCKDB_MEMORY_LIMIT") or None,
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

    def place(self) -> Place:
        """The warehouse as an error names it (kind, host or file; the setting), read from dlt's config."""
        if self.is_duckdb:
            return place(self.destination, duckdb_path=self.duckdb_path)
        try:
            reference = Destination.from_reference(self.destination)
            credentials = reference.configuration(reference.spec(), accept_partial=True).credentials
        except Exception:  # noqa: BLE001 - a sentence about an outage names what it can
            credentials = None
        return place(self.destination, credentials=credentials)

    def ride_out(self, action: Callable[[], T], doing: str, log: Callable[[str], Any] = print) -> T:
        """`action()`, repeated while this warehouse is away (outage.py), or its one sentence."""
        return ride_out(action, doing, self.place, log)

    def dlt_destination(self) -> Any:
        if not self.is_duckdb:
            return self.destination  # dlt resolves the credentials from its own config keys
        self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        credentials = DuckDbCredentials(str(self.duckdb_path))
        credentials.global_config = {"memory_limit": self.duckdb_memory_limit or DEFAULT_DUCKDB_MEMORY_LIMIT}
        return dlt.destinations.duckdb(credentials=credentials)

    def load(self, pipeline: dlt.Pipeline, rows: int, on_retry: Optional[Callable[[str, BaseException], None]] = None) -> Any:
        """Load the pipeline's normalized packages (`rows` rows in all) within a memory limit sized for them.

        On DuckDB without LMS_DUCKDB_MEMORY_LIMIT the limit is `load_memory_limit(rows)`, and if the
        load runs out of it, the same package is loaded again within the default: dlt leaves a
        package whose job failed this way pending, with the merge rolled back, and resumes it.
        What a merge needs does not follow the rows alone (DuckDB picks its join by estimates:
        a re-merge of 387k rows into 2M needed 44MB, one of 817k 36MB), so the size is a first
        guess and the default the fallback. dlt sets `credentials.global_config` on every
        connection it opens (`SET GLOBAL`, on the one instance the write lock holds open),
        reading the credentials this pipeline was built with.
        """
        # One database instance for the load's connections (see _database_held_open), under the write
        # lock or not: scripts and the bench load without it.
        with _database_held_open(self.duckdb_path) if self.is_duckdb else contextlib.nullcontext():
            return self._load(pipeline, rows, on_retry)

    def _load(self, pipeline: dlt.Pipeline, rows: int, on_retry: Optional[Callable[[str, BaseException], None]]) -> Any:
        limit = load_memory_limit(rows) if self.is_duckdb and not self.duckdb_memory_limit else None
        self._memory_for(pipeline, limit)
        if limit in (None, DEFAULT_DUCKDB_MEMORY_LIMIT):
            return pipeline.load(workers=self.load_workers)
        try:
            # dlt retries a transiently failed job five times, a second apart, before it raises; within
            # the same limit an out-of-memory job fails alike, so it raises at the first here
            with set_env(LOAD__RAISE_ON_MAX_RETRIES="1"):
                return pipeline.load(workers=self.load_workers)
        except Exception as exc:  # noqa: BLE001 - a transient failure goes on as dlt would have retried it
            if not any(isinstance(e, LoadClientJobRetry) for e in exception_chain(exc)):
                raise
            if is_out_of_memory(exc):
                if on_retry:
                    on_retry(limit, exc)
                self._memory_for(pipeline, DEFAULT_DUCKDB_MEMORY_LIMIT)
        return pipeline.load(workers=self.load_workers)

    def _memory_for(self, pipeline: dlt.Pipeline, limit: Optional[str]) -> None:
        """`limit` for the pipeline's next DuckDB connections, unless LMS_DUCKDB_MEMORY_LIMIT fixes it."""
        if limit and self.is_duckdb and not self.duckdb_memory_limit:
            pipeline.destination.config_params["credentials"].global_config["memory_limit"] = limit

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
    def file_lock(self) -> Iterator[None]:
        """Serialise access to a DuckDB file across processes; a no-op for server databases.

        DuckDB lets one process open a file at a time, so a second concurrent load (or a
        summary query, or a dbt build in its own process) waits here instead of failing with
        "Could not set lock on file".
        """
        if not self.is_duckdb:
            yield
            return
        self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.duckdb_path}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """The file lock, with the database held open in this process for everything done under it."""
        with self.file_lock(), (_database_held_open(self.duckdb_path) if self.is_duckdb else contextlib.nullcontext()):
            yield

    @contextlib.contextmanager
    def sql_client(self, memory_limit: Optional[str] = None) -> Iterator[Any]:
        """dlt's SQL client on this warehouse's dataset, holding the DuckDB lock while open.

        DuckDB will not let a second process open the file, not even to read, while a load writes to it.
        `memory_limit` replaces the default (128MB) unless LMS_DUCKDB_MEMORY_LIMIT is set.
        """
        with self.write_lock(), tempfile.TemporaryDirectory(prefix="lms-sql-") as workdir:
            pipeline = self.pipeline("lms_sql", working_dir=Path(workdir))
            self._memory_for(pipeline, memory_limit)
            with pipeline.sql_client() as client:
                yield client

    def read(self, query: Callable[[Any], T]) -> T:
        """`query(client)` within READ_MEMORY_LIMIT, and once more within the default if DuckDB runs out of it.

        A check's hash aggregate over 2M activity ids filled all 128MB of the pool, which stays in
        the run's process: the check step set a 30-day range run's peak (410 MiB against 337 for the
        load). DuckDB spills such operators to disk, so most reads fit in 32MB; one that does not is
        only read-only work to redo. `query` must not write.
        """
        try:
            with self.sql_client(READ_MEMORY_LIMIT) as client:
                return query(client)
        except Exception as exc:  # noqa: BLE001 - only DuckDB's out-of-memory is retried
            if not (self.is_duckdb and not self.duckdb_memory_limit and is_out_of_memory(exc)):
                raise
        with self.sql_client() as client:
            return query(client)


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
