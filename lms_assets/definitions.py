"""The code location: `dagster dev`, `dg dev` and `dagster asset materialize -m lms_assets.definitions` load `defs`.

Assembled from an explicit list of the `defs/` packages rather than `load_from_defs_folder`:
the folder holds helpers (keys, config, SQL files, the fenced private import) that are not
definitions, the executor and resources are set once here, and a reader sees in one screen
everything the location contains. `build_defs` lets a test or a second location pass its own warehouse.
"""

from dagster import Definitions, in_process_executor

from lms_assets.defs import automation, ingestion, summaries
from lms_assets.defs.resources import WarehouseResource


def build_defs(warehouse: WarehouseResource | None = None) -> Definitions:
    return Definitions(
        assets=[*ingestion.ASSETS, *summaries.ASSETS],
        asset_checks=[*ingestion.CHECKS, *summaries.CHECKS, *automation.CHECKS],
        jobs=automation.JOBS,
        schedules=automation.SCHEDULES,
        sensors=automation.SENSORS,
        resources={"warehouse": warehouse or WarehouseResource()},
        # One process per run: a run here is one load plus a few SQL checks, and a subprocess per step
        # costs ~3 s each on two cores (measured in bench/). Parallelism is across runs (the pool).
        executor=in_process_executor,
    )


defs = build_defs()
