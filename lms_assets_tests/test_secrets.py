"""The password never appears in output, Dagster's storage, metadata, errors, the warehouse or dlt's files (issue #4).

The scan covers what persists after the runs: DAGSTER_HOME (run and event storage, compute logs),
the pipelines directory (each run's working directory is removed with the run; anything left
behind is scanned), and the warehouse file. It is shown to find a planted password, and to have
read real files, so it cannot pass by looking at nothing (issue #11).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.cli import ROOT, finish, materialize_cli

SECRET = "Zq-unique-Passw0rd-4711"


def _scan(roots: list[Path], needle: bytes) -> tuple[int, list[str]]:
    """(files read, files containing needle) under roots (files or folders)."""
    files = [p for r in roots if r.exists() for p in ([r] if r.is_file() else r.rglob("*")) if p.is_file()]
    return len(files), [str(p) for p in files if needle in p.read_bytes()]


@pytest.mark.slow
def test_the_password_is_nowhere_after_a_good_run_and_a_401(lms_env, make_sandbox, tmp_path, dagster_home, monkeypatch):
    sb = make_sandbox(SandboxOptions(fault_rate=0.2, retry_after=(0,)), profile="realistic")
    db = lms_env(sb)
    sb.options.password = SECRET  # the sandbox now accepts only SECRET
    select = ("--select", "lms/users,lms/content,lms/activities", "--partition", "2024-01-02")
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", SECRET)
    ok = finish(materialize_cli(dagster_home, *select))
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", SECRET + "-wrong")
    refused = finish(materialize_cli(dagster_home, *select))
    assert ok[0] == 0, ok[1][-3000:]
    assert refused[0] != 0 and "HTTP 401" in refused[1]
    assert SECRET not in ok[1] + refused[1]
    roots = [dagster_home, tmp_path / "dlt", db]
    read, hits = _scan(roots, SECRET.encode())
    assert hits == []
    assert read >= 5 and db.exists()  # it read run storage, logs and the warehouse, not an empty folder

    planted = dagster_home / "storage" / "planted.log"
    planted.parent.mkdir(exist_ok=True)
    planted.write_text(f"a line that leaks {SECRET} in the middle")
    assert _scan(roots, SECRET.encode())[1] == [str(planted)]


def test_secrets_toml_is_ignored_by_git():
    out = subprocess.run(["git", "check-ignore", ".dlt/secrets.toml"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and ".dlt/secrets.toml" in out.stdout
    tracked = subprocess.run(["git", "ls-files", ".dlt", ".env"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "secrets.toml\n" not in tracked and ".env" not in tracked.split()
