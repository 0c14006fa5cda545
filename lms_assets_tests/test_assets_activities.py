"""Partitioned activity loads through Dagster: one partition, ranges, re-runs (issue #3)."""

from __future__ import annotations

import hashlib

from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize
from lms_assets_tests.helpers import expected_activities, query, row_count, utc


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
    assert meta["pages_fetched"] == -(-(expected_rows + 1) // 200) + 1  # +1: the API's inclusive end
    checks = check_results(result)
    assert checks["activities_ids_unique"].passed and checks["activities_date_in_window"].passed


def test_a_range_run_equals_its_one_day_runs(lms_env, sandbox, instance, tmp_path, monkeypatch):
    db_range = lms_env(sandbox)
    result = materialize(instance, "activities", first="2024-01-01", last="2024-01-05")
    assert result.success
    served_range = sandbox.stats.snapshot()
    days_db = tmp_path / "days.duckdb"
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(days_db))
    for day in range(1, 6):
        assert materialize(instance, "activities", partition=f"2024-01-0{day}").success
    assert _table_hash(db_range) == _table_hash(days_db)
    assert query(db_range, "SELECT COUNT(*) FROM lms.activities")[0][0] == sandbox.data.activities
    assert served_range["requests"] > 0


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
    assert all(c.passed for c in check_results(result).values())


def test_wrong_credentials_fail_the_run_with_one_clear_sentence(lms_env, sandbox, instance, monkeypatch):
    lms_env(sandbox)
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", "definitely-Wrong-9")
    result = materialize(instance, "activities", partition="2024-01-02", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = failure.event_specific_data.error
    assert "sources.lms.username" in error.message and "HTTP 401" in error.message
    assert "definitely-Wrong-9" not in str(failure)
