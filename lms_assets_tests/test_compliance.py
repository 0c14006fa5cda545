"""`lms/assignment_compliance` equals a computation from the API's enrolments; its check catches a missing row (issue #20)."""

from __future__ import annotations

from collections import Counter, defaultdict

import duckdb
import pytest

from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize, run_checks
from lms_assets_tests.helpers import epoch_ms, query

LOADS = ("content", "users", "audiences", "audience_members", "assignments", "enrolments")
COMPLIANCE = ("assignment_compliance", "assignment_compliance_by_audience", "assignment_compliance_by_assignment")
DAY_MS = 86_400_000


def expected_report(data, as_of_ms: int) -> dict[str, tuple]:
    """{enrolment id: (assignment, user, audience, status, days overdue)} for enrolments the report must hold."""
    out = {}
    for a in range(data.assignments):
        assignment = data.assignment(a)
        if assignment["isDeleted"]:
            continue
        for j in data.enrolments_of(a):
            r = data.enrolment(a, j)
            if r["status"] == "archived":
                continue
            due = epoch_ms(r["dueDate"])
            late = (as_of_ms - due) // DAY_MS if r["status"] in ("open", "overdue") and due < as_of_ms else 0
            out[r["id"]] = (r["assignmentId"], r["userId"], r["audienceId"], r["status"], late)
    return out


def roll_up(report: dict[str, tuple], by: int) -> dict[str, tuple]:
    """{audience or assignment: (enrolled, complete, open, overdue, scheduled)}."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in report.values():
        counts[row[by]][row[3]] += 1
    return {k: (sum(c.values()), c["complete"], c["open"], c["overdue"], c["scheduled"]) for k, c in counts.items()}


@pytest.mark.slow  # one Dagster run of six loads and the report
def test_the_report_equals_an_independent_computation(lms_env, real_sandbox, instance):
    db = lms_env(real_sandbox)
    result = materialize(instance, *LOADS, *COMPLIANCE)
    assert result.success
    data = real_sandbox.data
    (as_of,), = query(db, "select distinct epoch_ms(as_of) from lms.assignment_compliance")
    want = expected_report(data, as_of)
    got = {r[0]: tuple(r[1:]) for r in query(db, "select enrolment_id, assignment_id, user_id, audience_id, status, "
                                                "days_overdue from lms.assignment_compliance")}
    assert got == want
    assert Counter(s for *_, s, _ in want.values())["overdue"] > 0  # the sandbox has overdue enrolments to report
    by_audience = {r[0]: tuple(r[1:]) for r in query(
        db, "select audience_id, enrolled, complete, open, overdue, scheduled from lms.assignment_compliance_by_audience")}
    assert by_audience == roll_up(want, 2)
    by_assignment = {r[0]: tuple(r[1:]) for r in query(
        db, "select assignment_id, enrolled, complete, open, overdue, scheduled from lms.assignment_compliance_by_assignment")}
    assert by_assignment == roll_up(want, 0)
    rates = query(db, "select completion_rate, complete, enrolled from lms.assignment_compliance_by_assignment")
    assert all(rate == pytest.approx(c / n) for rate, c, n in rates)
    # user, audience and content come from their tables
    some = query(db, "select c.user_email, u.email, c.audience_name, c.content_title, ct.title from lms.assignment_compliance c "
                     "join lms.users u on u.id = c.user_id join lms.content ct on ct.id = c.content_id limit 50")
    assert some and all(e == ue and name and title == t for e, ue, name, title, t in some)
    checks = check_results(result)
    assert checks["assignment_compliance_counts_match_enrolments"].passed
    meta = materialization_metadata(result, "assignment_compliance")
    assert meta["dagster/row_count"] == len(want)
    assert meta["overdue"] == Counter(r[3] for r in want.values())["overdue"]
    assert "data:image/svg+xml;base64," in meta["by_audience"] and "| days overdue |" in meta["top_overdue"]


@pytest.mark.slow
def test_the_count_check_fails_on_a_missing_row(lms_env, real_sandbox, instance):
    db = lms_env(real_sandbox)
    assert materialize(instance, *LOADS, *COMPLIANCE).success
    with duckdb.connect(str(db)) as con:
        con.execute("delete from lms.assignment_compliance where enrolment_id = "
                    "(select min(enrolment_id) from lms.assignment_compliance)")
    checks = check_results(run_checks(instance, "assignment_compliance"))
    evaluation = checks["assignment_compliance_counts_match_enrolments"]
    assert not evaluation.passed
    # two rows differ: the status of the deleted enrolment, and enrolled
    assert evaluation.description == ("dbt test assignment_compliance_counts_match_enrolments on lms/assignment_compliance "
                                      "failed: 2 rows broke it.")


def test_the_report_asks_for_what_is_not_loaded(lms_env, real_sandbox, instance):
    lms_env(real_sandbox)
    result = materialize(instance, "assignment_compliance", raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "need lms/enrolments, lms/assignments, lms/audiences, lms/users, lms/content, not loaded yet" in \
        failure.event_specific_data.error.message


@pytest.mark.slow  # the loads, then dbt by hand with a fixed as_of
def test_due_soon_marks_the_open_enrolments_due_within_the_days_given(lms_env, real_sandbox, instance, monkeypatch):
    # issue #35: the current report gains the open enrolments due within lms_due_soon_days of its as_of
    import json
    import os
    import subprocess

    from lms_assets.tenant.models.profile import profile_env
    from lms_assets.tenant.models.project import DBT_EXECUTABLE, DBT_PROJECT_DIR
    from lms_assets.warehouse import Warehouse

    db = lms_env(real_sandbox)
    assert materialize(instance, *LOADS).success
    as_of = "2024-01-03T00:00:00+00:00"
    env = {**os.environ, **profile_env(Warehouse.from_env()), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
           "DBT_TARGET_PATH": str(db.parent / "dbt-target"), "DBT_LOG_PATH": str(db.parent / "dbt-target")}
    done = subprocess.run([DBT_EXECUTABLE, "build", "-s", "assignment_compliance+", "--exclude", "assignment_compliance_daily",
                           "--vars", json.dumps({"lms_as_of": as_of, "lms_due_soon_days": 14})],
                          cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    start = epoch_ms("2024-01-03T00:00:00Z")
    data = real_sandbox.data
    due = {data.enrolment_id(a, j): epoch_ms(data.enrolment(a, j)["dueDate"]) for a in range(data.assignments) for j in data.enrolments_of(a)}
    want = {i for i, (_, _, _, status, _) in expected_report(data, start).items()
            if status == "open" and start <= due[i] < start + 14 * DAY_MS}
    got = {r[0] for r in query(db, "SELECT enrolment_id FROM lms.assignment_compliance WHERE is_due_soon")}
    assert got == want and want
    assert query(db, "SELECT SUM(due_soon) FROM lms.assignment_compliance_by_audience")[0][0] == len(want)

