"""The dbt profile's values, derived from the warehouse the loads use: no second place for a password.

`lms_assets/dbt/profiles.yml` reads these environment variables; they are set for the duration of one
dbt invocation (the dbt process and dagster-dbt's adapter in this process both read them) and restored
after. The password travels as `DBT_ENV_SECRET_LMS_PASSWORD`, which dbt scrubs from its logs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path
from typing import Iterator

from lms_assets.warehouse import Warehouse
from lms_assets.warehouse.memory import set_env

MODELLED = ("duckdb", "postgres")
PARTIAL_PARSE = "partial_parse.msgpack"
# The dbt vars Dagster passes per run, and the environment variable the `setting` macro reads for each.
SETTINGS = {"lms_first_day": "LMS_DBT_FIRST_DAY", "lms_end_day": "LMS_DBT_END_DAY", "lms_as_of": "LMS_DBT_AS_OF",
            "lms_due_soon_days": "LMS_DBT_DUE_SOON_DAYS"}
PROFILE_VARIABLES = ("LMS_DBT_TARGET", "LMS_DBT_SCHEMA", "LMS_DBT_DUCKDB_PATH", "LMS_DBT_DUCKDB_MEMORY_LIMIT", "LMS_DBT_HOST",
                     "LMS_DBT_PORT", "LMS_DBT_USER", "LMS_DBT_DBNAME", "DBT_ENV_SECRET_LMS_PASSWORD",
                     # the run's settings, read by the `setting` macro
                     "LMS_DBT_FIRST_DAY", "LMS_DBT_END_DAY", "LMS_DBT_AS_OF", "LMS_DBT_DUE_SOON_DAYS")


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
def dbt_profile(warehouse: Warehouse, settings: dict[str, str] | None = None) -> Iterator[None]:
    """The profile's variables and the run's settings (LMS_DBT_FIRST_DAY, ...; see the `setting` macro) in the environment."""
    with set_env(**profile_env(warehouse), **(settings or {})):
        yield


@contextlib.contextmanager
def partial_parse(warehouse: Warehouse, target: Path) -> Iterator[None]:
    """dbt's partial-parse file kept between runs per profile, so a run re-parses only what changed.

    dbt parses the whole project again when the profile differs from the one its partial-parse file was
    written with (1.8 s of a 3-5 s model run here), and every tenant and warehouse has its own profile. The
    cache is keyed by the profile's values less the password.
    """
    key = hashlib.sha256(repr(sorted((k, v) for k, v in profile_env(warehouse).items() if "SECRET" not in k)).encode())
    cached = warehouse.pipelines_dir / "dbt-partial-parse" / f"{key.hexdigest()[:16]}.msgpack"
    if cached.exists():
        shutil.copyfile(cached, target / PARTIAL_PARSE)
    try:
        yield
    finally:
        written = target / PARTIAL_PARSE
        if written.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            staged = cached.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(written, staged)
            os.replace(staged, cached)
