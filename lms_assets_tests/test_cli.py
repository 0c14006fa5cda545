"""The `dagster` CLI against the sandbox: a ranged materialization, and two runs at the same moment (issue #3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lms_assets_tests.helpers import expected_activities, query, utc

ROOT = Path(__file__).parent.parent
DAGSTER = str(Path(sys.executable).parent / "dagster")


def _materialize(tmp_path: Path, *args: str) -> subprocess.Popen:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        # create the instance's storage once, as a deployment has it, before runs race to do so
        subprocess.run([DAGSTER, "instance", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return subprocess.Popen([DAGSTER, "asset", "materialize", "-m", "lms_assets.definitions", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-4000:]
    return out


def test_cli_partition_range(lms_env, sandbox, tmp_path):
    db = lms_env(sandbox)
    _finish(_materialize(tmp_path, "--select", "lms/activities", "--partition-range", "2024-01-01...2024-01-04"))
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected_activities(
        sandbox.data, utc(2024, 1, 1), utc(2024, 1, 5))


def test_two_partitions_launched_at_the_same_moment_both_finish_exact(lms_env, sandbox, tmp_path):
    db = lms_env(sandbox)
    first = _materialize(tmp_path, "--select", "lms/activities", "--partition", "2024-01-02")
    second = _materialize(tmp_path, "--select", "lms/activities", "--partition", "2024-01-04")
    _finish(first), _finish(second)
    expected = expected_activities(sandbox.data, utc(2024, 1, 2), utc(2024, 1, 3))
    expected.update(expected_activities(sandbox.data, utc(2024, 1, 4), utc(2024, 1, 5)))
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected
