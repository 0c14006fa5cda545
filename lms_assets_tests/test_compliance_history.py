"""Compliance history (issue #35): the sandbox's evolving enrolments loaded day by day, the daily report equal to
the state the sandbox had at each day's end; a skipped day; re-runs; a reopened enrolment's two cycles."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import requests

from lms_assets.sandbox import SandboxOptions
from lms_assets.sandbox import evolving as ev
from lms_assets.sandbox.data import DAY_MS, parse_timestamp
from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize
from lms_assets_tests.helpers import query

LOADS = ("audiences", "audience_members", "assignments", "enrolments")
HISTORY = ("enrolments_history", "assignments_history")
DAYS = 6


def _day(i: int) -> str:
    return (date(2024, 1, 1) + timedelta(days=i)).isoformat()


def _load_at_end_of(instance, sandbox, day: str) -> None:
    """The API as it stands a moment before the day ends, loaded, then recorded in the history."""
    requests.post(f"{sandbox.base_url}/_sandbox/clock", params={"at": f"{day}T23:59:59.999Z"}, timeout=10).raise_for_status()
    assert materialize(instance, *LOADS).success
    assert materialize(instance, *HISTORY).success


def expected(data, day: str) -> dict[tuple[str, str], tuple[int, ...]]:
    """{(assignment, audience): (enrolled, complete, open, overdue, scheduled)} as the sandbox stood at the day's end."""
    end = parse_timestamp(f"{day}T00:00:00Z") + DAY_MS
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for a in range(data.assignments):
        assignment = ev.assignment_at(data, a, end - 1)
        if assignment["deletedAt"] and parse_timestamp(assignment["deletedAt"]) < end:
            continue
        for j in data.enrolments_of(a):
            e = ev.enrolment_at(data, a, j, end - 1)
            if e["status"] != "archived":
                counts[(e["assignmentId"], e["audienceId"])][e["status"]] += 1
    return {k: (sum(c.values()), c["complete"], c["open"], c["overdue"], c["scheduled"]) for k, c in counts.items()}


def _built(db, day: str) -> dict[tuple[str, str], tuple[int, ...]]:
    rows = query(db, "SELECT assignment_id, audience_id, enrolled, complete, open, overdue, scheduled, completion_rate "
                     f"FROM lms.assignment_compliance_daily WHERE day = DATE '{day}'")
    assert all(rate == pytest.approx(complete / enrolled) for _, _, enrolled, complete, _, _, _, rate in rows)
    return {(a, au): tuple(int(v) for v in counts) for a, au, *counts, _ in rows}


@pytest.mark.slow  # a week of loads, snapshots and daily builds
def test_a_week_loaded_day_by_day_equals_the_sandbox_at_each_days_end(lms_env, make_sandbox, instance):
    sandbox = make_sandbox(SandboxOptions(evolving=True), profile="realistic", days=DAYS)
    db = lms_env(sandbox)
    data = sandbox.data
    skipped = 3  # no load at the end of this day: its changes arrive with the next day's load
    for i in range(DAYS):
        if i != skipped:
            _load_at_end_of(instance, sandbox, _day(i))
        if i == 1:  # a re-run of the same load adds no version
            before = query(db, "SELECT COUNT(*) FROM lms.enrolments_history")[0][0]
            _load_at_end_of(instance, sandbox, _day(i))
            assert query(db, "SELECT COUNT(*) FROM lms.enrolments_history")[0][0] == before
    result = materialize(instance, "assignment_compliance_daily", first=_day(0), last=_day(DAYS - 1))
    assert result.success
    for i in range(DAYS):
        assert _built(db, _day(i)) == expected(data, _day(i)), _day(i)
    # the data set moves: statuses change over the week, the deleted assignment leaves, counts are not constant
    assert expected(data, _day(0)) != expected(data, _day(DAYS - 1))
    assert check_results(result)["assignment_compliance_daily_one_row_per_day_assignment_audience"].passed
    meta = materialization_metadata(result, "assignment_compliance_daily")
    assert meta["dagster/partition_row_count"] == sum(len(expected(data, _day(i))) for i in range(DAYS))
    assert "data:image/svg+xml;base64," in meta["completion_by_audience"]
    assert f"| {_day(DAYS - 1)} | {sum(v[3] for v in expected(data, _day(DAYS - 1)).values())} |" in meta["overdue_per_day"]

    # a reopened enrolment (recertification) keeps both cycles: complete, then open with a new due date
    reopened = [(a, j) for a in range(data.assignments) for j in data.enrolments_of(a)
                if [c["status"] for _, c in ev.events(data, a, j)] == ["complete", "open"]
                and ev.events(data, a, j)[1][0] < parse_timestamp(f"{_day(DAYS - 1)}T23:59:59Z") and a != 0]
    assert reopened
    a, j = reopened[0]
    versions = query(db, "SELECT status, due_date FROM lms.enrolments_history WHERE id = "
                         f"'{data.enrolment_id(a, j)}' ORDER BY dbt_valid_from")
    statuses = [s for s, _ in versions]
    assert statuses[-2:] == ["complete", "open"] and versions[-1][1] != versions[-2][1]


@pytest.mark.slow
def test_a_day_before_history_began_is_refused_in_one_sentence(lms_env, make_sandbox, instance):
    sandbox = make_sandbox(SandboxOptions(evolving=True), profile="realistic", days=DAYS)
    lms_env(sandbox)
    _load_at_end_of(instance, sandbox, _day(2))
    # the first load saw the API at the end of 2024-01-03: the days before are unknown, never zeros
    result = materialize(instance, "assignment_compliance_daily", partition=_day(0), raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert (f"lms/assignment_compliance_daily cannot be built for {_day(0)}: history began on {_day(2)} (the first load of "
            f"enrolments), so the days before it are unknown; materialize {_day(2)} or later.") in str(failure.event_specific_data.error)
    assert materialize(instance, "assignment_compliance_daily", partition=_day(2)).success


@pytest.mark.slow
def test_bad_versions_are_refused_naming_the_record_and_overlaps_fail_the_check(lms_env, make_sandbox, instance):
    import duckdb

    from lms_assets_tests.dagster_helpers import run_checks

    sandbox = make_sandbox(SandboxOptions(evolving=True), profile="realistic", days=DAYS)
    db = lms_env(sandbox)
    _load_at_end_of(instance, sandbox, _day(1))
    versions = query(db, "SELECT COUNT(*) FROM lms.enrolments_history")[0][0]
    (record,) = query(db, "SELECT MIN(id) FROM lms.enrolments")[0]

    def refused(sql: str) -> str:
        with duckdb.connect(str(db)) as con:
            con.execute(sql)
        result = materialize(instance, *HISTORY, raise_on_error=False)
        assert not result.success
        return str(next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error)

    # the API went back in time: nothing is committed, the sentence names the record
    back = refused(f"UPDATE lms.enrolments SET updated_at = updated_at - INTERVAL 3 DAY WHERE id = '{record}'")
    assert f"enrolments {record} came with updatedAt" in back and "older than the version the history holds" in back
    missing = refused(f"UPDATE lms.enrolments SET updated_at = NULL WHERE id = '{record}'")
    assert f"enrolments {record} has no updatedAt (1 record(s) in all)" in missing
    assert query(db, "SELECT COUNT(*) FROM lms.enrolments_history")[0][0] == versions

    # a history edited by hand so that two versions of one record overlap fails its check
    assert check_results(run_checks(instance, "enrolments_history"))["enrolments_history_validities_contiguous"].passed
    with duckdb.connect(str(db)) as con:
        con.execute(f"""INSERT INTO lms.enrolments_history SELECT * REPLACE (dbt_valid_from - INTERVAL 1 DAY AS dbt_valid_from,
                        dbt_valid_from + INTERVAL 1 HOUR AS dbt_valid_to, md5(dbt_scd_id) AS dbt_scd_id)
                        FROM lms.enrolments_history WHERE id = '{record}'""")
    check = check_results(run_checks(instance, "enrolments_history"))["enrolments_history_validities_contiguous"]
    assert not check.passed and check.description.startswith("dbt test enrolments_history_validities_contiguous on lms/enrolments_history failed")


@pytest.mark.postgres
@pytest.mark.slow
def test_the_history_on_postgres_equals_the_sandbox_at_each_days_end(postgres_env, lms_env, make_sandbox, instance):
    from lms_assets_tests.helpers import pg

    sandbox = make_sandbox(SandboxOptions(evolving=True), profile="realistic", days=DAYS)
    lms_env(sandbox)
    for i in (0, 2, 3):  # day 1 skipped: its changes come with day 2's load
        _load_at_end_of(instance, sandbox, _day(i))
    assert materialize(instance, "assignment_compliance_daily", first=_day(0), last=_day(3)).success
    for i in range(4):
        rows = pg(postgres_env, "SELECT assignment_id, audience_id, enrolled, complete, open, overdue, scheduled "
                                f"FROM lms.assignment_compliance_daily WHERE day = DATE '{_day(i)}'")
        assert {(a, au): tuple(int(v) for v in counts) for a, au, *counts in rows} == expected(sandbox.data, _day(i)), _day(i)
