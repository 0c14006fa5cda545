"""The same expectations as on DuckDB, against a real PostgreSQL server (issue #6)."""

from __future__ import annotations

import hashlib

import psycopg2
import pytest

from lms_assets.sources.lms import lms_source
from lms_assets.warehouse import make_pipeline
from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize
from lms_assets_tests.helpers import expected_activities, pg, utc

pytestmark = pytest.mark.postgres


def _activities(url: str) -> dict[str, int]:
    return dict(pg(url, "SELECT id, (EXTRACT(EPOCH FROM date) * 1000)::bigint FROM lms.activities"))


def _hash(url: str) -> str:
    rows = pg(url, 'SELECT id, date, type, context_id, data::text, "user" FROM lms.activities ORDER BY id')
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_full_ingestion_into_postgres(postgres_env, sandbox):
    make_pipeline("lms_test").run(lms_source(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6)))
    data = sandbox.data
    assert sorted(r[0] for r in pg(postgres_env, "SELECT id FROM lms.users")) == sorted(
        data.user(i)["id"] for i in range(data.users))
    assert pg(postgres_env, "SELECT COUNT(*) FROM lms.content")[0][0] == data.contents
    assert _activities(postgres_env) == expected_activities(data, utc(2024, 1, 1), utc(2024, 1, 6))
    types = dict(pg(postgres_env, """SELECT table_name || '.' || column_name, data_type FROM information_schema.columns
                                     WHERE table_schema = 'lms'"""))
    assert types["activities.date"] == "timestamp with time zone"
    assert types["activities.data"] == "jsonb" and types["content.tags"] == "jsonb"
    assert types["content.is_official"] == "boolean"


def test_partition_range_and_idempotent_rerun_on_postgres(postgres_env, sandbox, instance):
    assert materialize(instance, "activities", first="2024-01-02", last="2024-01-03").success
    first = _hash(postgres_env)
    assert _activities(postgres_env) == expected_activities(sandbox.data, utc(2024, 1, 2), utc(2024, 1, 4))
    assert materialize(instance, "activities", partition="2024-01-03").success
    assert materialize(instance, "activities", first="2024-01-02", last="2024-01-03").success
    assert _hash(postgres_env) == first


def test_summaries_and_checks_on_postgres(postgres_env, sandbox, instance, monkeypatch):
    monkeypatch.setenv("SOURCES__LMS__PII__EMAIL", "hash")  # issue #14 on PostgreSQL too
    monkeypatch.setenv("SOURCES__LMS__PII_KEY", "a-test-pii-key-of-some-length")
    results = [materialize(instance, "content", "users"),
               materialize(instance, "activities", first="2024-01-01", last="2024-01-05"),
               materialize(instance, "user_activity_daily", first="2024-01-01", last="2024-01-05"),
               materialize(instance, "user_activity_summary", "content_engagement")]
    assert all(r.success for r in results)
    checks = {k: v for r in results for k, v in check_results(r).items()}
    checks.pop("freshness_check")  # yesterday is not loaded here
    # the dbt tests run as checks on PostgreSQL too; the one that fails is the warning about the sandbox's
    # activities of users gone from the listing (usr_gone_*), which the relationships test must report
    failing = {k: c for k, c in checks.items() if not c.passed}
    assert len(checks) == 21 and set(failing) == {"user_activity_daily_users_known"}, {k: c.metadata for k, c in failing.items()}
    assert failing["user_activity_daily_users_known"].severity.value == "WARN"
    assert pg(postgres_env, "SELECT COUNT(*) FROM lms.user_activity_summary WHERE email !~ '^[0-9a-f]{64}$'")[0][0] == 0
    database = postgres_env.rsplit("/", 1)[-1]
    meta = materialization_metadata(results[-1], "content_engagement")
    assert meta["dagster/table_name"] == f"{database}.lms.content_engagement"
    assert meta["dagster/row_count"] == pg(postgres_env, "SELECT COUNT(*) FROM lms.content")[0][0]
    known = sum(1 for i in range(sandbox.data.activities) if sandbox.data.activity(i)["user"] is not None)
    assert pg(postgres_env, "SELECT SUM(activity_count) FROM lms.user_activity_daily")[0][0] == known
    assert pg(postgres_env, "SELECT COUNT(*), SUM(activity_count) FROM lms.user_activity_summary")[0] == (
        sandbox.data.users,
        sum(1 for i in range(sandbox.data.activities)
            if (u := sandbox.data.activity(i)["user"]) is not None and not u.startswith("usr_gone")))


def test_daily_days_are_utc_whatever_the_postgres_session_zone(postgres_env, sandbox, instance):
    with psycopg2.connect(postgres_env) as con, con.cursor() as cur:
        cur.execute("ALTER DATABASE " + postgres_env.rsplit("/", 1)[1] + " SET timezone TO 'Pacific/Kiritimati'")
    assert materialize(instance, "activities", partition="2024-01-02").success
    assert materialize(instance, "user_activity_daily", partition="2024-01-02").success
    days = {d.isoformat() for d, in pg(postgres_env, "SELECT DISTINCT activity_date FROM lms.user_activity_daily")}
    assert days == {"2024-01-02"}


def test_a_dagster_instance_on_postgres_storage_runs_a_materialization(postgres_env, sandbox, tmp_path):
    from dagster import DagsterInstance

    home = tmp_path / "pg_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "storage:\n  postgres:\n    postgres_url:\n      env: LMS_TEST_DAGSTER_PG_URL\n"
    )
    import os

    # dagster-postgres goes through SQLAlchemy, whose bare postgresql:// now means psycopg 3
    os.environ["LMS_TEST_DAGSTER_PG_URL"] = postgres_env.replace("postgresql://", "postgresql+psycopg2://", 1)
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            result = materialize(instance, "activities", partition="2024-01-02")
            assert result.success
            assert instance.get_run_by_id(result.run_id).is_success
        stored = pg(postgres_env, "SELECT COUNT(*) FROM runs WHERE run_id = '%s'" % result.run_id)[0][0]
        assert stored == 1
    finally:
        os.environ.pop("LMS_TEST_DAGSTER_PG_URL", None)


def test_the_real_api_shapes_land_on_postgres(postgres_env, lms_env, real_sandbox, instance):
    # issue #10 on a server warehouse: JSON as jsonb, numbers as double, deletes into the summary;
    # a user summary created before `is_deleted` existed gains the column
    lms_env(real_sandbox)
    pg(postgres_env, "CREATE SCHEMA lms; CREATE TABLE lms.user_activity_summary (user_id TEXT PRIMARY KEY, email TEXT, "
                     "first_name TEXT, last_name TEXT, activity_count BIGINT NOT NULL, active_days BIGINT NOT NULL, "
                     "first_activity_at TIMESTAMPTZ, last_activity_at TIMESTAMPTZ, last_activity_type TEXT); SELECT 1")
    results = [materialize(instance, "content", "users"),
               materialize(instance, "activities", first="2024-01-01", last="2024-01-05"),
               materialize(instance, "user_activity_summary")]
    assert all(r.success for r in results)
    data = real_sandbox.data
    assert _activities(postgres_env) == expected_activities(data, utc(2024, 1, 1), utc(2024, 1, 6))
    types = dict(pg(postgres_env, """SELECT table_name || '.' || column_name, data_type FROM information_schema.columns
                                     WHERE table_schema = 'lms'"""))
    assert types["users.positions"] == types["users.rank"] == types["activities.with"] == "jsonb"
    assert types["users.compliance"] == "double precision"
    assert not [c for c in types if "__v_" in c]
    flagged = {data.user(i)["id"] for i in range(data.users) if data.user(i)["deleted"]}
    assert {r[0] for r in pg(postgres_env, "SELECT user_id FROM lms.user_activity_summary WHERE is_deleted")} == flagged
    ranks = {data.user(i)["id"]: data.user(i)["rank"] for i in range(data.users)}
    assert dict(pg(postgres_env, "SELECT id, rank FROM lms.users")) == ranks  # null, {} and objects as sent


def test_slices_and_the_load_log_on_postgres(postgres_env, lms_env, real_sandbox, instance, monkeypatch):
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    lms_env(real_sandbox)
    result = materialize(instance, "activities", first="2024-01-01", last="2024-01-05")
    assert result.success
    log = pg(postgres_env, "SELECT window_start, window_end, rows, api_total, run_id FROM lms._lms_windows "
                           "WHERE resource = 'activities' ORDER BY window_start")
    assert [(a.date().isoformat(), b.date().isoformat()) for a, b, *_ in log] == [
        ("2024-01-01", "2024-01-03"), ("2024-01-03", "2024-01-05"), ("2024-01-05", "2024-01-06")]
    for start, end, rows, api_total, run_id in log:
        assert rows == len(expected_activities(real_sandbox.data, start, end)) <= api_total
        assert run_id == result.run_id
    assert _activities(postgres_env) == expected_activities(real_sandbox.data, utc(2024, 1, 1), utc(2024, 1, 6))


def test_assignments_compliance_and_cpd_on_postgres(postgres_env, lms_env, real_sandbox, instance, monkeypatch):
    # issue #20 on a server warehouse: the new listings, incremental enrolments, the report and its check, CPD days
    from collections import Counter

    from lms_assets_tests.test_assignments import expected_enrolments, expected_members
    from lms_assets_tests.test_compliance import LOADS, expected_report, roll_up
    from lms_assets_tests.test_cpd_entries import expected_entries

    lms_env(real_sandbox)
    data = real_sandbox.data
    first = materialize(instance, *LOADS, "assignment_compliance", "assignment_compliance_by_audience",
                        "assignment_compliance_by_assignment")
    assert first.success and check_results(first)["assignment_compliance_counts_match_enrolments"].passed
    assert set(pg(postgres_env, "SELECT audience_id, user_id FROM lms.audience_members")) == expected_members(data)
    assert {r for r, in pg(postgres_env, "SELECT id FROM lms.enrolments")} == set(expected_enrolments(data))
    (as_of,), = pg(postgres_env, "SELECT DISTINCT (EXTRACT(EPOCH FROM as_of) * 1000)::bigint FROM lms.assignment_compliance")
    want = expected_report(data, as_of)
    got = {r[0]: tuple(r[1:]) for r in pg(postgres_env, "SELECT enrolment_id, assignment_id, user_id, audience_id, "
                                                        "status, days_overdue FROM lms.assignment_compliance")}
    assert got == want
    by_audience = {r[0]: tuple(r[1:]) for r in pg(postgres_env, "SELECT audience_id, enrolled, complete, open, overdue, "
                                                                "scheduled FROM lms.assignment_compliance_by_audience")}
    assert by_audience == roll_up(want, 2)
    # a second run reads enrolments from the cursor the first left in the warehouse's dlt state
    real_sandbox.stats.reset()
    assert materialize(instance, "assignments", "enrolments").success
    asked = [q for path, q in real_sandbox.stats.queries if path.endswith("/enrolments")]
    assert asked and all("updatedAtFrom" in q for q in asked)
    assert pg(postgres_env, "SELECT COUNT(*) FROM lms.enrolments")[0][0] == len(expected_enrolments(data))
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    assert materialize(instance, "cpd_entries", first="2024-01-01", last="2024-01-03").success
    assert {r for r, in pg(postgres_env, "SELECT log_entry_id FROM lms.cpd_entries")} == \
        expected_entries(data, utc(2024, 1, 1), utc(2024, 1, 4))
    assert Counter(r for r, in pg(postgres_env, "SELECT resource FROM lms._lms_windows"))["cpd_entries"] == 2
