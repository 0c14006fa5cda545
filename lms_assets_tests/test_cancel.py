"""Cancelling a run from the UI: it stops within seconds, commits nothing partial, and the next run is exact (issue #13)."""

from __future__ import annotations

import time

import pytest

from lms_assets.sandbox import SandboxOptions
from lms_assets.tenant.partition_ranges import range_tags
from lms_assets_tests.cli import dagster_dev
from lms_assets_tests.graphql import launch_run, run_status, terminate_run
from lms_assets_tests.helpers import expected_activities, query, utc

pytestmark = pytest.mark.slow
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


def _wait(url: str, run_id: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while (status := run_status(url, run_id)) not in FINISHED:
        assert time.monotonic() < deadline, f"run {run_id} still {status} after {timeout:.0f} s"
        time.sleep(0.5)
    return status


def test_a_cancelled_range_run_stops_within_seconds_and_leaves_whole_days(lms_env, make_sandbox, tmp_path, dagster_home,
                                                                            monkeypatch):
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    # 10 requests a second: the ~60 pages left when it is cancelled take seconds, so the run cannot win the race
    monkeypatch.setenv("SOURCES__LMS__REQUESTS_PER_SECOND", "10")
    sb = make_sandbox(SandboxOptions(latency_ms=20), profile="realistic", activities=20_000, days=10)
    db = lms_env(sb)
    pipelines = tmp_path / "dlt"
    with dagster_dev(dagster_home, tmp_path / "dagster-dev.log") as url:
        run_id = launch_run(url, "__ASSET_JOB", range_tags("2024-01-01", "2024-01-10"), [["lms", "activities"]])
        deadline = time.monotonic() + 300
        while sb.stats.snapshot()["by_path"].get("/v1/activities 200", 0) < 40:  # about 4 days in
            assert time.monotonic() < deadline and run_status(url, run_id) not in FINISHED, "the run never got going"
            time.sleep(0.05)
        asked = time.monotonic()
        terminate_run(url, run_id)
        assert _wait(url, run_id, timeout=60) == "CANCELED"
        stopped_in = time.monotonic() - asked
        assert stopped_in < 20, f"the run took {stopped_in:.0f} s to stop"
        print(f"stopped {stopped_in:.1f} s after the terminate request")

        # whole days or none, only completed loads visible, and no working directory left behind
        landed = {str(d): n for d, n in query(db, "SELECT CAST(timezone('UTC', date) AS DATE), COUNT(*) FROM lms.activities GROUP BY 1")}
        for day, rows in landed.items():
            d = int(day[-2:])
            assert rows == len(expected_activities(sb.data, utc(2024, 1, d), utc(2024, 1, d + 1))), day
        in_table = {r[0] for r in query(db, "SELECT DISTINCT _dlt_load_id FROM lms.activities")}
        assert in_table <= {r[0] for r in query(db, "SELECT load_id FROM lms._dlt_loads WHERE status = 0")}
        assert not list(pipelines.glob("lms_activities-*"))

        again = launch_run(url, "__ASSET_JOB", range_tags("2024-01-01", "2024-01-10"), [["lms", "activities"]])
        assert _wait(url, again) == "SUCCESS"
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected_activities(
        sb.data, utc(2024, 1, 1), utc(2024, 1, 11))
