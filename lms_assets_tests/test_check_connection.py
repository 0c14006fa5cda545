"""`python -m lms_assets.check_connection` tells a new user what the API answers before a backfill (issue #10)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.conftest import PASSWORD

pytestmark = pytest.mark.slow


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lms_assets.check_connection", *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))


@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_it_reports_auth_fields_totals_and_the_bounds_it_probed(lms_env, make_sandbox, bounds):
    lms_env(make_sandbox(SandboxOptions(bounds=bounds), profile="realistic"))
    out = _check()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "users: HTTP 200" in out.stdout and "totals present (totalResults 300" in out.stdout
    assert "fields seen: additionalFields, compliance" in out.stdout
    assert f"timestampFrom {bounds}, timestampTo {bounds}" in out.stdout
    assert out.stdout.rstrip().endswith("ready: credentials accepted, every endpoint answered.")
    assert PASSWORD not in out.stdout + out.stderr


def test_it_names_what_to_fix_and_exits_1(lms_env, make_sandbox, monkeypatch):
    lms_env(make_sandbox(SandboxOptions(strict_timestamps=True, totals=False), profile="realistic"))
    out = _check()
    assert out.returncode == 1
    assert "no totals" in out.stdout
    assert "PROBLEM: activities: HTTP 400" in out.stdout
    assert "timestampFrom must be a date formatted as YYYY-MM-DD hh:mm:ss" in out.stdout
    assert "try '%Y-%m-%d %H:%M:%S'" in out.stdout
    monkeypatch.setenv("SOURCES__LMS__TIMESTAMP_FORMAT", "%Y-%m-%d %H:%M:%S")
    assert _check().returncode == 0
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", "wrong")
    out = _check()
    assert out.returncode == 1 and "HTTP 401 ('invalid tenant ID or API secret')" in out.stdout


def test_it_checks_oauth_credentials_and_the_new_listings(lms_env, make_sandbox, monkeypatch):
    # issue #20: the client credentials the loads would use, a bare-array listing named as such
    sb = make_sandbox(profile="realistic")
    lms_env(sb)
    monkeypatch.delenv("SOURCES__LMS__PASSWORD")
    monkeypatch.setenv("SOURCES__LMS__AUTH", "oauth2")
    monkeypatch.setenv("SOURCES__LMS__CLIENT_ID", sb.options.client_id)
    monkeypatch.setenv("SOURCES__LMS__CLIENT_SECRET", sb.options.client_secret)
    monkeypatch.setenv("SOURCES__LMS__TOKEN_URL", f"{sb.base_url}/oauth2/token/{sb.options.tenant_id}")
    out = _check()
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"OAuth client {sb.options.client_id!r}" in out.stdout
    assert "assignments: HTTP 200" in out.stdout and "in a bare JSON array, no totals" in out.stdout
    assert "audiences: HTTP 200" in out.stdout and sb.stats.snapshot()["tokens_issued"] == 1
    assert sb.options.client_secret not in out.stdout + out.stderr
    monkeypatch.setenv("SOURCES__LMS__CLIENT_SECRET", "wrong-secret")
    out = _check()
    assert out.returncode == 1 and "refused the client credentials" in out.stdout
    monkeypatch.setenv("SOURCES__LMS__REGION", "mars")
    out = _check()
    assert out.returncode == 1 and out.stdout.startswith("  PROBLEM: sources.lms.region is 'mars'")


def test_every_configuration_error_is_a_problem_line_naming_the_tenants_own_key(lms_env, sandbox, monkeypatch):
    """Issue #37: a future start date was a traceback; each bad setting is now a PROBLEM line, nothing asked of the API."""
    lms_env(sandbox)
    monkeypatch.delenv("SOURCES__LMS__PASSWORD")
    monkeypatch.setenv("SOURCES__LMS__START_DATE", "2999-01-01")
    out = _check()
    assert out.returncode == 1 and "Traceback" not in out.stdout + out.stderr
    assert out.stdout.splitlines() == [
        "  PROBLEM: sources.lms.password is not set: set SOURCES__LMS__PASSWORD in the environment, or put it in "
        ".dlt/secrets.toml (see .dlt/secrets.toml.example); sources.lms.auth is basic.",
        "  PROBLEM: sources.lms.start_date is 2999-01-01, in the future: set it to the first day of activity history "
        "(YYYY-MM-DD, env SOURCES__LMS__START_DATE).",
        "2 problem(s) to fix in the configuration of sources.lms before anything is asked of the API."]
    for name, value in (("BASE_URL", sandbox.base_url), ("USERNAME", "sandbox"), ("PASSWORD", PASSWORD),
                        ("START_DATE", "2999-01-01"), ("MAX_CONCURRENCY", "x")):
        monkeypatch.setenv(f"SOURCES__SOUTH_LMS__{name}", value)
    out = _check("--section", "south_lms")
    assert out.returncode == 1 and "Traceback" not in out.stdout + out.stderr
    assert "PROBLEM: sources.south_lms.start_date is 2999-01-01, in the future" in out.stdout
    assert "SOURCES__SOUTH_LMS__START_DATE" in out.stdout and "SOURCES__LMS__" not in out.stdout
    monkeypatch.setenv("SOURCES__SOUTH_LMS__START_DATE", "2024-01-01")
    out = _check("--section", "south_lms")
    assert "PROBLEM: sources.south_lms.max_concurrency is 'x', not of type int" in out.stdout
