"""Long range runs commit slice by slice, log each slice, and a retry resumes (issue #13)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from dagster import AssetKey

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.dagster_helpers import materialize, run_range
from lms_assets_tests.helpers import expected_activities, query, utc

ACTIVITIES = AssetKey(["lms", "activities"])
DAYS = [f"2024-01-0{d}" for d in range(1, 6)]


def _per_day(db) -> dict[str, int]:
    return {str(d): n for d, n in query(db, "SELECT CAST(timezone('UTC', date) AS DATE), COUNT(*) FROM lms.activities GROUP BY 1")}


def _expected_per_day(data) -> dict[str, int]:
    return {day: len(expected_activities(data, utc(2024, 1, int(day[-1])), utc(2024, 1, int(day[-1]) + 1))) for day in DAYS}


def _log(db) -> list[tuple]:
    return query(db, "SELECT window_start, window_end, rows, api_total, load_id, run_id, root_run_id "
                     "FROM lms._lms_windows WHERE resource = 'activities' ORDER BY committed_at")


def _ms(value: datetime) -> int:
    return int(value.astimezone(timezone.utc).timestamp() * 1000)


@pytest.mark.slow  # a Dagster run of three slices
def test_a_range_run_commits_whole_days_slice_by_slice_and_logs_each(lms_env, make_sandbox, instance, monkeypatch):
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    sb = make_sandbox(profile="realistic")  # the real API's `pagination` totals
    db = lms_env(sb)
    result = materialize(instance, "activities", first="2024-01-01", last="2024-01-05")
    assert result.success

    log = _log(db)
    assert [(a.date().isoformat(), b.date().isoformat()) for a, b, *_ in log] == [
        ("2024-01-01", "2024-01-03"), ("2024-01-03", "2024-01-05"), ("2024-01-05", "2024-01-06")]
    loaded = {r[0] for r in query(db, "SELECT load_id FROM lms._dlt_loads WHERE status = 0")}
    for start, end, rows, api_total, load_id, run_id, root in log:
        in_window = query(db, "SELECT COUNT(*) FROM lms.activities WHERE date >= ? AND date < ?", start, end)[0][0]
        assert rows == in_window == len(expected_activities(sb.data, start, end)) > 0
        assert api_total >= rows  # the API's total for bounds a second wider on each side
        assert load_id in loaded and run_id == root == result.run_id
    assert sum(r[2] for r in log) == len(expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 6)))
    assert _per_day(db) == _expected_per_day(sb.data)

    # the days of the first two slices were reported as they committed, each with its own count
    early = [e.event_specific_data.materialization for e in result.all_events
             if e.event_type_value == "ASSET_MATERIALIZATION" and e.event_specific_data.materialization.partition]
    counts = {m.partition: m.metadata["dagster/partition_row_count"].value for m in reversed(early)}  # first per day
    assert {k: counts[k] for k in DAYS[:4]} == {k: _expected_per_day(sb.data)[k] for k in DAYS[:4]}
    assert set(instance.get_materialized_partitions(ACTIVITIES)) == set(DAYS)


@pytest.mark.slow  # a Dagster run of three slices
@pytest.mark.parametrize("totals", [True, False], ids=["totals", "no-totals"])
def test_the_next_slices_first_days_are_read_while_a_slice_is_committed(lms_env, make_sandbox, instance, monkeypatch,
                                                                         totals):
    """Issue #21: the API is not left idle while a slice is normalized and loaded, and no more than the next
    slice's first days (a third of a slice, at least one) are read before that slice is committed."""
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")  # slices [1, 3), [3, 5), [5, 6): one day read ahead
    sb = make_sandbox(SandboxOptions(latency_ms=5, totals=totals), profile="realistic")
    db = lms_env(sb)
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-05").success

    committed = {start: at for start, at in query(
        db, "SELECT window_start, committed_at FROM lms._lms_windows WHERE resource = 'activities'")}
    served = list(zip(sb.stats.windows, sb.stats.windows_at, strict=True))
    for before, after in ((utc(2024, 1, 1), utc(2024, 1, 3)), (utc(2024, 1, 3), utc(2024, 1, 5))):
        ahead = [at for (lo, hi), at in served if _ms(after) - 1000 <= lo and hi <= _ms(after) + 86_400_000 + 1000]
        beyond = [at for (lo, hi), at in served if hi > _ms(after) + 86_400_000 + 1000]
        assert ahead and min(ahead) < committed[before].timestamp(), f"nothing of {after.date()} read while {before.date()} was committed"
        assert all(at > committed[before].timestamp() for at in beyond), f"read past the first day of {after.date()} before {before.date()} was committed"
    # whole days, each once
    assert _per_day(db) == _expected_per_day(sb.data)
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected_activities(
        sb.data, utc(2024, 1, 1), utc(2024, 1, 6))


@pytest.mark.slow  # three Dagster runs
def test_a_failed_range_run_keeps_committed_days_and_its_retry_reads_only_the_rest(lms_env, make_sandbox, instance, monkeypatch):
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    sb = make_sandbox(SandboxOptions(outage_after="2024-01-04T00:00:00Z"), profile="realistic")  # down from the third slice on
    db = lms_env(sb)
    failed = run_range(instance, "2024-01-01", "2024-01-05")
    assert not failed.success

    # whole days or nothing: the first slice is in, complete, and the UI shows exactly its days
    assert _per_day(db) == {k: v for k, v in _expected_per_day(sb.data).items() if k in DAYS[:2]}
    assert set(instance.get_materialized_partitions(ACTIVITIES)) == set(DAYS[:2])
    assert [r[5] for r in _log(db)] == [failed.run_id]

    sb.options.outage_after = None  # the API is back
    sb.stats.reset()
    retry = run_range(instance, "2024-01-01", "2024-01-05", reexecute_from=failed.run_id)
    assert retry.success
    assert _per_day(db) == _expected_per_day(sb.data)
    # the retry asked nothing of the committed days (but the second its bounds reach back, see README)
    assert sb.stats.windows and min(lo for lo, _ in sb.stats.windows) == _ms(utc(2024, 1, 3)) - 1000
    assert [r[6] for r in _log(db)] == [failed.run_id] * 3
    assert set(instance.get_materialized_partitions(ACTIVITIES)) == set(DAYS)

    # a new materialization of the range is not a retry: it reads every day again (late data)
    sb.stats.reset()
    again = run_range(instance, "2024-01-01", "2024-01-05")
    assert again.success
    assert min(lo for lo, _ in sb.stats.windows) == _ms(utc(2024, 1, 1)) - 1000
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected_activities(
        sb.data, utc(2024, 1, 1), utc(2024, 1, 6))


def test_a_bad_commit_size_is_refused_in_one_sentence(lms_env, sandbox, instance, monkeypatch):
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "0")
    lms_env(sandbox)
    result = materialize(instance, "activities", partition="2024-01-02", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "LMS_COMMIT_EVERY_DAYS is 0: set it to 1 or more" in failure.message + str(failure.event_specific_data.error)


@pytest.mark.slow  # a Dagster run and two automation evaluations
def test_the_daily_summary_automation_follows_the_committed_days_of_a_failed_run(lms_env, make_sandbox, instance, monkeypatch):
    from dagster import evaluate_automation_conditions

    from lms_assets.definitions import defs
    from lms_assets_tests.keys import USER_ACTIVITY_DAILY

    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    lms_env(make_sandbox(SandboxOptions(outage_after="2024-01-04T00:00:00Z"), profile="realistic"))
    before = evaluate_automation_conditions(defs=defs, instance=instance)  # the sensor's tick before the run
    assert not run_range(instance, "2024-01-01", "2024-01-05").success
    after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)
    assert set(after.get_requested_partitions(USER_ACTIVITY_DAILY)) == set(DAYS[:2])
