"""The dbt profile's values, derived from the warehouse the loads use: no second place for a password.

`lms_assets/dbt/profiles.yml` reads these environment variables; they are set for the duration of one
dbt invocation (the dbt process and dagster-dbt's adapter in this process both read them) and restored
after. The password travels as `DBT_ENV_SECRET_LMS_PASSWORD`, which dbt scrubs from its logs.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from lms_assets.warehouse import Warehouse

MODELLED = ("duckdb", "postgres")
PROFILE_VARIABLES = ("LMS_DBT_TARGET", "LMS_DBT_SCHEMA", "LMS_DBT_DUCKDB_PATH", "LMS_DBT_DUCKDB_MEMORY_LIMIT", "LMS_DBT_HOST",
                     "LMS_DBT_PORT", "LMS_DBT_USER", "LMS_DBT_DBNAME", "DBT_ENV_SECRET_LMS_PASSWORD")


def profile_env(warehouse: Warehouse) -> dict[str, str]:
    """The profile's variables for `warehouse`; one sentence when dbt cannot build on it from here."""
    if warehouse.destination not in MODELLED:
        raise ValueError(
            f"LMS_DESTINATION is {warehouse.destination!r}: this project builds its dbt models on duckdb or postgres; "
            "on another warehouse install the models as a dbt package in your own dbt project (docs/dbt.md).")
    env = {"LMS_DBT_TARGET": warehouse.destination, "LMS_DBT_SCHEMA": warehouse.dataset}
    if warehouse.is_duckdb:
        env["LMS_DBT_DUCKDB_PATH"] = str(warehouse.duckdb_path)
        if warehouse.duckdb_memory_limit:
            env["LMS_DBT_DUCKDB_MEMORY_LIMIT"] = warehouse.duckdb_memory_limit
        return env
    from dlt.destinations import postgres

    credentials = postgres().configuration(None, accept_partial=True).credentials  # dlt's own keys, as the loads read them
    if not credentials.is_resolved():
        raise ValueError("The PostgreSQL warehouse has no credentials: set DESTINATION__POSTGRES__CREDENTIALS "
                         "(postgresql://user:password@host:port/database) or destination.postgres.credentials in .dlt/secrets.toml.")
    env.update(LMS_DBT_HOST=str(credentials.host), LMS_DBT_PORT=str(credentials.port or 5432),
               LMS_DBT_USER=str(credentials.username), LMS_DBT_DBNAME=str(credentials.database),
               DBT_ENV_SECRET_LMS_PASSWORD=str(credentials.password or ""))
    return env


@contextlib.contextmanager
def dbt_profile(warehouse: Warehouse) -> Iterator[None]:
    values = profile_env(warehouse)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
