"""Content and users deleted upstream are soft-deleted by the refresh, and come back if they reappear (issue #4)."""

from __future__ import annotations

import pytest

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.dagster_helpers import materialization_metadata, materialize
from lms_assets_tests.helpers import query


@pytest.mark.slow  # several Dagster runs: left out of `make test-fast`
def test_deleted_records_are_marked_not_dropped(lms_env, make_sandbox, instance):
    gone = frozenset({"usr_0000003", "usr_0000150", "cnt_000007"})
    db = lms_env(make_sandbox())
    assert materialize(instance, "content", "users").success
    assert query(db, "SELECT COUNT(*) FROM lms.users WHERE is_deleted")[0][0] == 0

    lms_env(make_sandbox(SandboxOptions(hidden_ids=gone)))
    result = materialize(instance, "content", "users")
    assert materialization_metadata(result, "users")["marked_deleted"] == 2
    assert materialization_metadata(result, "content")["marked_deleted"] == 1
    marked = {r[0] for r in query(db, "SELECT id FROM lms.users WHERE is_deleted AND deleted_at IS NOT NULL "
                                      "UNION ALL SELECT id FROM lms.content WHERE is_deleted AND deleted_at IS NOT NULL")}
    assert marked == gone
    assert query(db, "SELECT COUNT(*) FROM lms.users")[0][0] == 300  # kept, not dropped

    # a second refresh marks nothing new; a record that reappears is live again
    again = materialize(instance, "content", "users")
    assert materialization_metadata(again, "users")["marked_deleted"] == 0
    lms_env(make_sandbox())
    materialize(instance, "content", "users")
    assert query(db, "SELECT COUNT(*) FROM lms.users WHERE is_deleted")[0][0] == 0


@pytest.mark.slow  # seconds of waiting or several runs: the full suite's
def test_users_the_api_flags_deleted_are_deleted_and_not_active_learners(lms_env, real_sandbox, instance):
    db = lms_env(real_sandbox)
    data = real_sandbox.data
    flagged = {data.user(i)["id"] for i in range(data.users) if data.user(i)["deleted"]}
    assert flagged  # the realistic profile flags some users
    assert materialize(instance, "content", "users").success
    assert {r[0] for r in query(db, "SELECT id FROM lms.users WHERE is_deleted")} == flagged
    assert {r[0] for r in query(db, "SELECT id FROM lms.users WHERE deleted_at IS NOT NULL")} == flagged
    assert materialize(instance, "activities", partition="2024-01-02").success
    result = materialize(instance, "user_activity_summary")
    in_summary = {r[0] for r in query(db, "SELECT user_id FROM lms.user_activity_summary WHERE is_deleted")}
    assert in_summary == flagged
    active = query(db, "SELECT COUNT(*) FROM lms.user_activity_summary WHERE activity_count > 0 AND NOT is_deleted")[0][0]
    deleted_active = query(db, "SELECT COUNT(*) FROM lms.user_activity_summary WHERE activity_count > 0 AND is_deleted")[0][0]
    assert deleted_active > 0  # deleted users with activity exist, and are not counted
    meta = materialization_metadata(result, "user_activity_summary")
    assert meta["active_users"] == active and meta["deleted_users"] == len(flagged)


def test_a_user_deleted_while_the_listing_is_read_is_marked_in_the_same_run(lms_env, make_sandbox, instance, monkeypatch):
    # issue #21: the first user vanishes before page 2 is served; totalResults moves, the listing is read
    # again, and the user only the abandoned read returned is marked deleted by this run, not the next
    sb = make_sandbox(SandboxOptions(vanish=1), profile="realistic")
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__PER_PAGE", "50")
    result = materialize(instance, "users")
    (gone,) = sb.server.vanished["/v1/users"]
    rows = dict(query(db, "SELECT id, is_deleted AND deleted_at IS NOT NULL FROM lms.users"))
    assert rows[gone] is True
    assert len(rows) == sb.data.users
    flagged = {sb.data.user(i)["id"] for i in range(sb.data.users) if sb.data.user(i)["deleted"]}
    assert {i for i, deleted in rows.items() if deleted} == flagged | {gone}
    meta = materialization_metadata(result, "users")
    assert meta["listing_rereads"] == 1 and meta["marked_deleted"] == 1
