"""lms-assets: the LMS REST API synced into a warehouse with dlt, as Dagster assets."""

import os

# Arrow buffers from the system allocator rather than pyarrow's default (mimalloc), which keeps what
# a backfill's batches freed while DuckDB's merge stacks its own memory on top: at 200k activities
# a load peaked at 370 MiB with mimalloc and 296 MiB with this, at the same speed (bench/, issue #12).
# Arrow reads the variable once, when its first buffer is allocated, so it is set on import of the
# package, before any; an operator's own choice wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
