"""Partitioned activity loads through Dagster: one partition, ranges, re-runs (issue #3)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize
from lms_assets_tests.helpers import expected_activities, pages_of_parts, query, row_count, utc


def _table_hash(db) -> str:
    rows = query(db, """SELECT id, epoch_ms(date), type, content_type, context_id, context_type,
                               CAST(data AS VARCHAR), "user" FROM lms.activities ORDER BY id""")
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_one_partition_loads_exactly_its_day(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    result = materialize(instance, "activities", partition="2024-01-03")
    assert result.success
    assert dict(query(db, "SELECT id, epoch_ms(date) FROM lms.activities")) == expected_activities(
        sandbox.data, utc(2024, 1, 3), utc(2024, 1, 4))
    meta = materialization_metadata(result, "activities")
    assert meta["window_start"] == "2024-01-03T00:00:00+00:00" and meta["window_end"] == "2024-01-04T00:00:00+00:00"
    expected_rows = len(expected_activities(sandbox.data, utc(2024, 1, 3), utc(2024, 1, 4)))
    assert meta["rows_loaded"] == expected_rows
    # no totals and a full first page: the day is read as eight runs of three hours, eight at once
    parts = [(utc(2024, 1, 3, h), utc(2024, 1, 3, h) + timedelta(hours=3)) for h in range(0, 24, 3)]
    assert meta["pages_fetched"] == 1 + pages_of_parts(sandbox.data, parts)
    checks = check_results(result)
    assert checks["activities_ids_unique"].passed and checks["activities_date_in_window"].passed


@pytest.mark.slow  # several Dagster runs: left out of `make test-fast`
def test_a_range_run_equals_its_one_day_runs(lms_env, make_sandbox, instance, tmp_path, monkeypatch):
    sb = make_sandbox()  # its own: the request count below is this test's alone
    db_range = lms_env(sb)
    result = materialize(instance, "activities", first="2024-01-01", last="2024-01-05")
    assert result.success
    # one pass over the API for the range: the seed's answers name no `totalPages`, so after one page of
    # the whole range each UTC day is read once (asked a second wider on each side): five days, fewer than
    # the eight requests kept in flight, so each (its first page full, discarded) as two halves, each ending on an empty page
    halves = [(utc(2024, 1, d, h), utc(2024, 1, d, h) + timedelta(hours=12)) for d in range(1, 6) for h in (0, 12)]
    assert sb.stats.snapshot()["by_path"] == {"/v1/activities 200": 1 + 5 + pages_of_parts(sb.data, halves)}
    days_db = tmp_path / "days.duckdb"
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(days_db))
    for day in range(1, 6):
        assert materialize(instance, "activities", partition=f"2024-01-0{day}").success
    assert _table_hash(db_range) == _table_hash(days_db)
    assert query(db_range, "SELECT COUNT(*) FROM lms.activities")[0][0] == sb.data.activities


@pytest.mark.slow  # three Dagster runs
def test_re_running_a_partition_changes_nothing(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    hashes = []
    for _ in range(3):
        assert materialize(instance, "activities", partition="2024-01-02").success
        hashes.append(_table_hash(db))
    assert len(set(hashes)) == 1
    assert query(db, "SELECT COUNT(*) - COUNT(DISTINCT id) FROM lms.activities")[0][0] == 0


def test_a_future_window_loads_nothing(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    result = materialize(instance, "activities", partition="2024-02-20")
    assert result.success
    assert row_count(db, "activities") == 0
    # every check but freshness (yesterday is not loaded here; test_freshness.py covers it)
    assert all(c.passed for n, c in check_results(result).items() if n != "freshness_check")


def test_wrong_credentials_fail_the_run_with_one_clear_sentence(lms_env, sandbox, instance, monkeypatch):
    lms_env(sandbox)
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", "definitely-Wrong-9")
    result = materialize(instance, "activities", partition="2024-01-02", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = failure.event_specific_data.error
    assert "sources.lms.username" in error.message and "HTTP 401" in error.message
    assert "definitely-Wrong-9" not in str(failure)


def test_a_long_load_logs_its_progress_and_type_counts(lms_env, sandbox, instance, monkeypatch):
    """Issue #7: pages, rows, window position and time left in the run log; counts by type in metadata."""
    lms_env(sandbox)
    monkeypatch.setenv("LMS_PROGRESS_EVERY_S", "0")  # every page, so a short test run shows it
    result = materialize(instance, "activities", first="2024-01-01", last="2024-01-05")
    logs = [e.message for e in instance.all_logs(result.run_id) if e.message and e.message.startswith("activities: ")]
    assert len(logs) >= 10
    assert "pages" in logs[-1] and f"{sandbox.data.activities} rows fetched" in logs[-1]
    assert "window position 2024-01-05" in logs[-1] and "time left" in logs[-1]
    by_type = materialization_metadata(result, "activities")["activities_by_type"]
    counted = sum(int(line.split("|")[2]) for line in by_type.splitlines()[2:])
    assert counted == sandbox.data.activities


def test_missing_credentials_fail_with_the_keys_to_set(lms_env, sandbox, instance, monkeypatch):
    lms_env(sandbox)
    monkeypatch.delenv("SOURCES__LMS__PASSWORD")
    result = materialize(instance, "users", raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "sources.lms.password is not set: set SOURCES__LMS__PASSWORD" in failure.event_specific_data.error.message
