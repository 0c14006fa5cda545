"""Asset checks pass on clean loads and fail on planted bad data (issue #3)."""

from __future__ import annotations

import duckdb

from lms_assets_tests.dagster_helpers import check_results, materialize, run_checks
from lms_assets_tests.helpers import query


def _plant(db, sql: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(sql)


def test_checks_pass_on_a_clean_load(lms_env, sandbox, instance):
    lms_env(sandbox)
    dims = materialize(instance, "content", "users")
    acts = materialize(instance, "activities", partition="2024-01-02")
    checks = {**check_results(dims), **check_results(acts)}
    checks.pop("freshness_check")  # yesterday is not loaded here: test_freshness.py
    assert set(checks) >= {"users_ids_unique_not_null", "content_ids_unique_not_null",
                           "activities_ids_unique", "activities_date_in_window", "activities_unknown_users"}
    assert all(c.passed for c in checks.values()), {k: c.metadata for k, c in checks.items() if not c.passed}
    unknown = checks["activities_unknown_users"]
    assert unknown.metadata["unknown_user_activities"].value > 0  # the sandbox names some users that do not exist


def test_duplicate_ids_fail_the_id_checks(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    materialize(instance, "content", "users")
    _plant(db, "INSERT INTO lms.users SELECT * FROM lms.users LIMIT 1")
    _plant(db, "INSERT INTO lms.content SELECT * FROM lms.content LIMIT 2")
    checks = check_results(run_checks(instance, "users", "content"))
    assert not checks["users_ids_unique_not_null"].passed
    assert checks["users_ids_unique_not_null"].metadata["duplicate_ids"].value == 1
    assert not checks["content_ids_unique_not_null"].passed



def test_activities_outside_the_loaded_window_fail_the_window_check(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    materialize(instance, "activities", partition="2024-01-02")
    # a row of this load whose date belongs to the next day, as a wrong upper bound would write
    _plant(db, "UPDATE lms.activities SET date = TIMESTAMPTZ '2024-01-03 00:00:00+00' WHERE id = (SELECT MIN(id) FROM lms.activities)")
    checks = check_results(run_checks(instance, "activities", partition="2024-01-02"))
    assert not checks["activities_date_in_window"].passed
    assert checks["activities_date_in_window"].metadata["dates_outside_window"].value == 1


def test_the_window_check_of_a_partition_reads_that_partition_s_own_load(lms_env, sandbox, instance):
    # issue #11: checked for partition X after a load of Y, it tested Y's rows against X's window
    db = lms_env(sandbox)
    assert materialize(instance, "activities", partition="2024-01-02").success
    assert materialize(instance, "activities", first="2024-01-04", last="2024-01-05").success
    check = check_results(run_checks(instance, "activities", partition="2024-01-02"))["activities_date_in_window"]
    assert check.passed, check.metadata
    day = query(db, "SELECT COUNT(*) FROM lms.activities WHERE date >= '2024-01-02' AND date < '2024-01-03'")[0][0]
    assert check.metadata["rows_checked"].value == day > 0
    _plant(db, "UPDATE lms.activities SET date = date - INTERVAL 1 DAY WHERE id = (SELECT MIN(id) FROM lms.activities "
               "WHERE date >= '2024-01-04')")  # a row of the 01-04..05 load now outside its window
    assert check_results(run_checks(instance, "activities", partition="2024-01-02"))["activities_date_in_window"].passed
    assert not check_results(run_checks(instance, "activities", partition="2024-01-05"))["activities_date_in_window"].passed


def test_unknown_users_above_the_threshold_warn(lms_env, sandbox, instance, monkeypatch):
    db = lms_env(sandbox)
    materialize(instance, "content", "users")
    materialize(instance, "activities", partition="2024-01-02")
    _plant(db, "DELETE FROM lms.users WHERE id IN (SELECT id FROM lms.users ORDER BY id LIMIT 150)")
    checks = check_results(run_checks(instance, "activities", partition="2024-01-02"))
    unknown = checks["activities_unknown_users"]
    assert not unknown.passed and unknown.severity.value == "WARN"
    assert unknown.metadata["share"].value > 0.05


def test_daily_counts_that_disagree_with_activities_fail(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    materialize(instance, "activities", partition="2024-01-02")
    materialize(instance, "user_activity_daily", partition="2024-01-02")
    _plant(db, "UPDATE lms.user_activity_daily SET activity_count = activity_count + 1 WHERE user_id = (SELECT MIN(user_id) FROM lms.user_activity_daily)")
    checks = check_results(run_checks(instance, "user_activity_daily", partition="2024-01-02"))
    assert not checks["daily_counts_match_activities"].passed
