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
    assert out.returncode == 1 and out.stdout.startswith("sources.lms.region is 'mars'")
