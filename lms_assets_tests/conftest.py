"""Fixtures: a sandbox LMS API on localhost, and an environment pointing dlt at it and at a temp DuckDB."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import pytest

from lms_assets.sandbox import Sandbox, SandboxData, SandboxOptions

PASSWORD = "s3cr3t-Sandbox-pw"
SMALL = dict(users=300, contents=120, activities=3_000, start=date(2024, 1, 1), days=5)


@pytest.fixture(scope="session")
def sandbox():
    """One fault-free sandbox for the session; tests that need faults make their own."""
    with Sandbox(SandboxData(**SMALL), SandboxOptions(password=PASSWORD)) as sb:
        yield sb


@pytest.fixture(scope="session")
def real_sandbox():
    """A fault-free sandbox serving the real API's record shapes (profile `realistic`)."""
    with Sandbox(SandboxData(**SMALL, profile="realistic"), SandboxOptions(password=PASSWORD)) as sb:
        yield sb


@pytest.fixture
def make_sandbox():
    """Start a sandbox with given data/options for one test."""
    with contextlib.ExitStack() as stack:
        def start(options: SandboxOptions | None = None, **data) -> Sandbox:
            opts = options or SandboxOptions()
            opts.password = PASSWORD
            return stack.enter_context(Sandbox(SandboxData(**{**SMALL, **data}), opts))
        yield start


@pytest.fixture
def lms_env(tmp_path: Path, monkeypatch, sandbox):
    """Point the source at `sandbox` and the destination at a DuckDB file in tmp_path.

    Returns a function that re-points the source at another sandbox.
    """
    def point_at(sb: Sandbox) -> Path:
        monkeypatch.setenv("SOURCES__LMS__BASE_URL", sb.base_url)
        return tmp_path / "warehouse.duckdb"

    monkeypatch.setenv("SOURCES__LMS__USERNAME", "sandbox")
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", PASSWORD)
    monkeypatch.setenv("SOURCES__LMS__START_DATE", "2024-01-01")
    monkeypatch.setenv("SOURCES__LMS__BACKOFF_FACTOR", "0.01")
    monkeypatch.setenv("SOURCES__LMS__MAX_RETRY_DELAY", "0.5")
    monkeypatch.setenv("LMS_DESTINATION", "duckdb")
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("LMS_PIPELINES_DIR", str(tmp_path / "dlt"))
    point_at(sandbox)
    return point_at


@pytest.fixture
def dagster_home(tmp_path) -> Path:
    """A DAGSTER_HOME of the test's own, for the `dagster` command line (see cli.py)."""
    from lms_assets_tests.cli import make_home

    return make_home(tmp_path / "dagster_home")


@pytest.fixture
def instance(tmp_path):
    """A Dagster instance of the test's own, on local storage in tmp_path."""
    from dagster import DagsterInstance

    home = tmp_path / "dagster_home"
    home.mkdir()
    with DagsterInstance.local_temp(str(home), overrides={"telemetry": {"enabled": False}}) as inst:
        yield inst


@pytest.fixture
def postgres_env(lms_env, monkeypatch):
    """A fresh PostgreSQL database for one test, set as the dlt destination.

    Needs LMS_TEST_POSTGRES_URL (a server URL whose user may create databases). Without it the
    test is skipped, except under LMS_REQUIRE_POSTGRES=1 (CI), where that is a failure.
    """
    import os
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    url = os.environ.get("LMS_TEST_POSTGRES_URL")
    if not url:
        message = "no PostgreSQL server: set LMS_TEST_POSTGRES_URL=postgresql://user:pw@host:port/db"
        if os.environ.get("LMS_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (LMS_REQUIRE_POSTGRES=1: CI must run the PostgreSQL tests)")
        pytest.skip(message)
    import psycopg2

    name = f"lms_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    db_url = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    monkeypatch.setenv("LMS_DESTINATION", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", db_url)
    try:
        yield db_url
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
