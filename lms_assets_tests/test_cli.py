"""The `dagster` CLI against the sandbox: a ranged materialization, and two runs at the same moment (issue #3)."""

from __future__ import annotations

import subprocess

import pytest

from lms_assets_tests.cli import dagster, finish, materialize_cli
from lms_assets_tests.helpers import expected_activities, query, utc

pytestmark = pytest.mark.slow


def _ok(proc) -> str:
    code, out = finish(proc)
    assert code == 0, out[-4000:]
    return out


def test_cli_partition_range(lms_env, sandbox, dagster_home):
    db = lms_env(sandbox)
    _ok(materialize_cli(dagster_home, "--select", "lms/activities", "--partition-range", "2024-01-01...2024-01-04"))
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected_activities(
        sandbox.data, utc(2024, 1, 1), utc(2024, 1, 5))


def test_two_partitions_launched_at_the_same_moment_both_finish_exact(lms_env, sandbox, dagster_home):
    db = lms_env(sandbox)
    # create the instance's storage once, as a deployment has it, before runs race to do so
    _ok(dagster(dagster_home, "instance", "migrate", stdout=subprocess.DEVNULL))
    first = materialize_cli(dagster_home, "--select", "lms/activities", "--partition", "2024-01-02")
    second = materialize_cli(dagster_home, "--select", "lms/activities", "--partition", "2024-01-04")
    _ok(first), _ok(second)
    expected = expected_activities(sandbox.data, utc(2024, 1, 2), utc(2024, 1, 3))
    expected.update(expected_activities(sandbox.data, utc(2024, 1, 4), utc(2024, 1, 5)))
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected
