"""Keeping CPython's full garbage collections off the objects a process had before a window is read.

A backfill's records are dicts held in batches of tens of thousands until they become Arrow tables;
their allocations trigger full collections (10 in a 30-day range run at 200k activities), and each
one walks every tracked object of the process: the 180,000 that importing Dagster, dlt and the
definitions left, as well as the batch. `gc.freeze()` moves what exists when the read starts to
a permanent generation that collections skip; `gc.unfreeze()` hands it back when the read ends,
so garbage among it is only collected later, never kept. Measured on 200k activities at
localhost: full collections took 0.65-0.86 s of a 6-8 s load without Dagster and 0.13-0.21 s with
the freeze; 1.44-1.49 s and 0.85-1.0 s of a 30-day range run in Dagster (bench/, issue #21).
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def older_objects_frozen() -> Iterator[None]:
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
