"""(f) Dagster's own cost of a range run: the project's definitions imported, one asset that does nothing.

`dagster asset materialize -m bench.null_defs --select bench/null --partition-range ...` creates the
run, its 30 planned partitions and their materializations like (d), on the same instance, with no
read and no load: what (d) costs beyond (c) before any of this project's work.
"""

import dagster as dg

import lms_assets.definitions  # noqa: F401 - imported as (d) imports it

PARTITIONS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)


@dg.asset(key=["bench", "null"], partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run())
def null_range() -> None:
    """Materializes the range it is given, reading and loading nothing."""


defs = dg.Definitions(assets=[null_range], executor=dg.in_process_executor)
