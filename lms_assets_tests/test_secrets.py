"""The password never appears in output, Dagster's storage, metadata, errors or dlt's files (issue #4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lms_assets.sandbox import SandboxOptions

ROOT = Path(__file__).parent.parent
SECRET = "Zq-unique-Passw0rd-4711"


def _files_containing(root: Path, needle: bytes) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(str(path))
    return hits


def _cli(tmp_path: Path, password: str, env_extra: dict) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, **env_extra, "DAGSTER_HOME": str(home), "SOURCES__LMS__PASSWORD": password}
    return subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "lms_assets.definitions",
         "--select", "lms/users,lms/content,lms/activities", "--partition", "2024-01-02"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_password_is_nowhere_after_a_good_run_and_a_401(lms_env, make_sandbox, tmp_path, monkeypatch):
    sb = make_sandbox(SandboxOptions(fault_rate=0.2, retry_after=(0,)))
    lms_env(sb)
    sb.options.password = SECRET  # the sandbox now accepts only SECRET
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", SECRET)
    ok = _cli(tmp_path, SECRET, {})
    assert ok.returncode == 0, ok.stderr[-3000:]
    refused = _cli(tmp_path, SECRET + "-wrong", {})
    assert refused.returncode != 0 and "HTTP 401" in refused.stdout + refused.stderr
    for run in (ok, refused):
        assert SECRET not in run.stdout and SECRET not in run.stderr
    # run storage, event logs, compute logs, materialization metadata: all under DAGSTER_HOME
    assert _files_containing(tmp_path / "home", SECRET.encode()) == []
    # dlt's working files (state, traces, load packages) of every run
    assert _files_containing(tmp_path / "dlt", SECRET.encode()) == []


def test_secrets_toml_is_ignored_by_git():
    out = subprocess.run(["git", "check-ignore", ".dlt/secrets.toml"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and ".dlt/secrets.toml" in out.stdout
    tracked = subprocess.run(["git", "ls-files", ".dlt", ".env"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "secrets.toml\n" not in tracked and ".env" not in tracked.split()
