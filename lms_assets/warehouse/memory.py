"""How much memory DuckDB may hold: sized for each load, small for checks, the default as the fallback.

DuckDB's buffer pool keeps its high-water mark in the process after a statement ends, so the
limit, not the data, sets a run's peak RSS. Measured at 2M activities over 30 days: a range run
peaked at 430 MiB with 128MB for everything and at 332-335 with these sizes.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Iterator, Optional

# DuckDB's buffer pool defaults to 80% of RAM and set the peak of a backfill's merge (845 MiB at
# 1M activities, measured in bench/); past this it spills to disk instead. Queries (summaries,
# checks) get this much; a load, unless LMS_DUCKDB_MEMORY_LIMIT is set, what `load_memory_limit` gives.
DEFAULT_DUCKDB_MEMORY_LIMIT = "128MB"
LOAD_MEMORY_FLOOR_MB = 32
LOAD_MEMORY_PER_ROW_BYTES = 16
# Checks read within this much, and again within the default if DuckDB runs out of it (`Warehouse.read`).
READ_MEMORY_LIMIT = "32MB"


def load_memory_limit(rows: int) -> str:
    """DuckDB's memory limit for loading a package of `rows` rows: 32MB plus 16 bytes a row, at most 128MB.

    A first guess, with the default as the fallback (`Warehouse.load`): what a merge cannot spill
    (its DELETE's join of the staging ids against the table) does not follow the rows alone, as
    DuckDB picks the join by estimates. Re-merging activities over the same rows of a 2M table:
    65k and 199k rows passed at 32MB, 387k needed 44MB, 817k passed at 36MB, 2M at 40MB (in
    DuckDB alone; through dlt, 2M failed at 32MB and passed at 64MB); 6M failed at 64MB and passed
    at 128MB. Fresh rows need little: a 2M one-commit load peaked at 331-346 MiB RSS with 128MB and
    275-287 with 64MB (what this gives); a 30-day range run, 7-day slices of about 470k rows, at
    430-433 MiB with 128MB and 332-335 with this (40MB).
    """
    megabytes = LOAD_MEMORY_FLOOR_MB + math.ceil(max(rows, 0) * LOAD_MEMORY_PER_ROW_BYTES / 1_000_000)
    return f"{min(megabytes, int(DEFAULT_DUCKDB_MEMORY_LIMIT.removesuffix('MB')))}MB"


def exception_chain(exc: Optional[BaseException]) -> Iterator[BaseException]:
    """An exception, what caused it, and the job error inside dlt's load failures."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__ or getattr(exc, "client_exception", None)


def is_out_of_memory(exc: BaseException) -> bool:
    """DuckDB's OutOfMemoryException, or dlt's wrapper of it (which keeps only its text), anywhere in the chain."""
    return any(type(e).__name__ == "OutOfMemoryException" or str(e).startswith("Out of Memory Error")
               for e in exception_chain(exc))


@contextlib.contextmanager
def set_env(**values: str) -> Iterator[None]:
    """Environment values for the block, restored after it: dlt reads its config from the environment on each step."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
