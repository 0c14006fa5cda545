"""Audiences, their members, assignments and their enrolments land exactly, with and without envelopes (issue #20)."""

from __future__ import annotations

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.dagster_helpers import materialization_metadata, materialize
from lms_assets_tests.helpers import epoch_ms, load_source, query, row_count

ASSIGNMENT_TABLES = ("audiences", "audience_members", "assignments", "enrolments")


_load = load_source


def expected_members(data) -> set[tuple[str, str]]:
    return {(data.audience_id(k), data.user_id(j)) for k in range(data.audiences) for j in data.members[k]}


def expected_enrolments(data) -> dict[str, dict]:
    """Every enrolment of an assignment the API does not flag deleted, by id."""
    out = {}
    for a in range(data.assignments):
        if not data.assignment(a)["isDeleted"]:
            for j in data.enrolments_of(a):
                record = data.enrolment(a, j)
                out[record["id"]] = record
    return out


@pytest.mark.parametrize("totals", [True, False], ids=["totals", "no-totals"])
def test_the_assignment_listings_land_exactly(lms_env, make_sandbox, totals):
    sb = make_sandbox(SandboxOptions(totals=totals), profile="realistic")
    db = lms_env(sb)
    _load(*ASSIGNMENT_TABLES, per_page=40)
    data = sb.data
    assert {r for r, in query(db, "select id from lms.audiences")} == {data.audience_id(k) for k in range(data.audiences)}
    assert set(query(db, "select audience_id, user_id from lms.audience_members")) == expected_members(data)
    assignments = dict(query(db, "select id, is_deleted from lms.assignments"))
    assert assignments == {data.assignment_id(a): data.assignment(a)["isDeleted"] for a in range(data.assignments)}
    landed = {i: (u, a, s) for i, u, a, s in query(db, "select id, user_id, assignment_id, status from lms.enrolments")}
    want = expected_enrolments(data)
    assert landed == {i: (r["userId"], r["assignmentId"], r["status"]) for i, r in want.items()}
    # the bare-array listings were asked at most 100 a page, the envelope ones as configured
    asked = {(path.split("/")[2], int(q["perPage"])) for path, q in sb.stats.queries}
    assert ("assignments", 40) in asked and ("audiences", 40) in asked
    # the merge keys are as documented, the nested parent is JSON, no child tables
    types = dict(query(db, "select column_name, data_type from information_schema.columns where table_schema = 'lms' "
                           "and table_name = 'audiences'"))
    assert types["parent"] == "JSON"
    tables = {t for t, in query(db, "select table_name from information_schema.tables where table_schema = 'lms'")}
    assert {t for t in tables if not t.startswith("_dlt")} == set(ASSIGNMENT_TABLES)


def test_bare_array_listings_are_asked_at_most_100_a_page(lms_env, make_sandbox):
    sb = make_sandbox(profile="realistic", users=900)
    db = lms_env(sb)
    _load("assignments", "enrolments", per_page=1000)
    asked = {path.split("/")[-1]: int(q["perPage"]) for path, q in sb.stats.queries}
    assert asked["assignments"] == asked["enrolments"] == 100
    assert row_count(db, "enrolments") == len(expected_enrolments(sb.data))
    assert any(len(sb.data.enrolments_of(a)) > 100 for a in range(sb.data.assignments))  # several pages were read


def test_enrolments_are_read_per_assignment_concurrently(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(latency_ms=30), profile="realistic")
    lms_env(sb)
    _load("assignments", "enrolments", max_concurrency=8)
    assert sb.stats.snapshot()["max_in_flight"] >= 4


def test_enrolments_are_read_incrementally_on_updated_at(lms_env, make_sandbox):
    sb = make_sandbox(profile="realistic")
    db = lms_env(sb)
    _load("assignments", "enrolments", pipeline="lms_inc")
    first_queries = [q for path, q in sb.stats.queries if path.endswith("/enrolments")]
    assert first_queries and not any("updatedAtFrom" in q for q in first_queries)  # the first run reads everything
    touched = sb.server.touch_enrolments(3)
    sb.stats.reset()
    _load("assignments", "enrolments", pipeline="lms_inc")
    second = [q for path, q in sb.stats.queries if path.endswith("/enrolments")]
    assert second and all("updatedAtFrom" in q for q in second)
    # only what changed since the newest stamp (less the lag) came back, and it landed
    statuses = dict(query(db, "select id, status from lms.enrolments"))
    assert {statuses[i] for i in touched} == {"complete"}
    assert len(statuses) == len(expected_enrolments(sb.data))
    loaded = query(db, "select count(*) from lms.enrolments e join lms._dlt_loads l on l.load_id = e._dlt_load_id "
                       "where l.load_id = (select max(load_id) from lms._dlt_loads)")[0][0]
    # the touched three, and the enrolments within the hour's lag before the newest stamp of the first run
    want = expected_enrolments(sb.data)
    newest = max(epoch_ms(r["updatedAt"]) for r in want.values())
    assert loaded == len(set(touched) | {i for i, r in want.items() if epoch_ms(r["updatedAt"]) >= newest - 3_600_000})
    assert loaded < len(want) / 10


def test_a_listing_that_turns_from_array_to_envelope_fails_clearly(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(break_mode="array-to-envelope", break_path="/v1/assignments", break_page=2),
                      profile="realistic")
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load("assignments", "enrolments", per_page=5)
    message = str(err.value)
    assert "answered with an envelope where the listing's first page was a bare JSON array" in message
    assert "/v1/assignments (page 2)" in message and "nothing was loaded" in message
    assert row_count(db, "assignments") == row_count(db, "enrolments") == 0


def test_a_member_without_user_id_fails_naming_the_key(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(break_mode="no-id", break_path=None, break_page=1), profile="realistic")
    lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load("audiences")
    assert "returned a record without an 'id'" in str(err.value)


@pytest.mark.slow
def test_listings_no_longer_returned_are_soft_deleted_through_dagster(lms_env, make_sandbox, instance):
    sb = make_sandbox(profile="realistic")
    db = lms_env(sb)
    assert materialize(instance, *ASSIGNMENT_TABLES).success
    data = sb.data
    gone_assignment, gone_audience = data.assignment_id(3), data.audience_id(5)
    gone_member = data.user_id(data.members[2][0])
    later = make_sandbox(SandboxOptions(hidden_ids=frozenset({gone_assignment, gone_audience, gone_member})),
                         profile="realistic")
    lms_env(later)
    result = materialize(instance, *ASSIGNMENT_TABLES)
    assert dict(query(db, "select id, is_deleted from lms.assignments"))[gone_assignment] is True
    assert dict(query(db, "select id, is_deleted from lms.audiences"))[gone_audience] is True
    members = query(db, "select audience_id, is_deleted, deleted_at is not null from lms.audience_members where user_id = ?",
                    gone_member)
    assert members and all(deleted and stamped for _, deleted, stamped in members)
    # the hidden audience's memberships went with it
    hidden = query(db, "select bool_and(is_deleted) from lms.audience_members where audience_id = ?", gone_audience)
    assert hidden == [(True,)]
    assert materialization_metadata(result, "assignments")["marked_deleted"] == 1
    assert materialization_metadata(result, "assignments")["dagster/row_count"] == data.assignments
