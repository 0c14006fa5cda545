"""The warehouse as a Dagster resource: assets and checks receive it instead of reading the environment.

Each field left unset falls back, at run time, to what the environment says (`LMS_DESTINATION`,
dlt's `destination.duckdb.credentials`, `LMS_DUCKDB_MEMORY_LIMIT`, `LMS_PIPELINES_DIR`), so a
deployment configures it by env vars and a test or a second code location by passing values.
dlt's own keys (credentials of a server warehouse) stay dlt's.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator, Optional

import dlt
from dagster import ConfigurableResource

from lms_assets.warehouse import DATASET, Warehouse


class WarehouseResource(ConfigurableResource):
    destination: Optional[str] = None
    duckdb_path: Optional[str] = None
    duckdb_memory_limit: Optional[str] = None
    pipelines_dir: Optional[str] = None

    def get(self, dataset: str = DATASET) -> Warehouse:
        """The warehouse, on `dataset` (a tenant's schema; `lms` for the first)."""
        return Warehouse.from_env(destination=self.destination, duckdb_path=self.duckdb_path,
                                  duckdb_memory_limit=self.duckdb_memory_limit, pipelines_dir=self.pipelines_dir,
                                  dataset=dataset)

    def pipeline(self, name: str, working_dir: Optional[Path] = None, dataset: str = DATASET) -> dlt.Pipeline:
        return self.get(dataset).pipeline(name, working_dir=working_dir)

    @contextlib.contextmanager
    def sql_client(self, dataset: str = DATASET) -> Iterator[Any]:
        with self.get(dataset).sql_client() as client:
            yield client
