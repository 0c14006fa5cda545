"""`lms/content_engagement`: one row per content item with its engagement (issue #14 §5)."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pytest

from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize, run_checks
from lms_assets_tests.helpers import query

pytestmark = pytest.mark.slow  # several Dagster runs each


def _expected(db) -> dict[str, tuple]:
    """Computed in Python from the loaded tables, not with the asset's SQL."""
    contents = dict(query(db, "SELECT id, title FROM lms.content"))
    users, counts, done, done_users = defaultdict(set), defaultdict(int), defaultdict(int), defaultdict(set)
    for user, context, kind in query(db, 'SELECT "user", context_id, type FROM lms.activities'):
        if context is None:
            continue
        counts[context] += 1
        if user is not None:
            users[context].add(user)
        if kind in ("completed", "passed"):
            done[context] += 1
            if user is not None:
                done_users[context].add(user)
    return {cid: (title, len(users[cid]), counts[cid], done[cid],
                  None if not users[cid] else len(done_users[cid]) / len(users[cid])) for cid, title in contents.items()}


def test_one_row_per_content_item_with_its_engagement(lms_env, make_sandbox, instance):
    db = lms_env(make_sandbox(profile="realistic", contents=5_000))  # more items than activities: some never used
    assert materialize(instance, "content", "users").success
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-05").success
    result = materialize(instance, "content_engagement")
    assert result.success
    landed = {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in query(
        db, "SELECT content_id, title, distinct_users, activity_count, completed_count, completion_rate FROM lms.content_engagement")}
    expected = _expected(db)
    assert landed.keys() == expected.keys()
    for cid, (title, users, count, done, rate) in expected.items():
        got = landed[cid]
        assert got[:4] == (title, users, count, done) and (rate is None) == (got[4] is None), cid
        assert rate is None or abs(rate - got[4]) < 1e-9
    assert any(v[2] == 0 for v in expected.values()) and any(v[2] > 0 for v in expected.values())
    assert check_results(result)["content_engagement_matches_sources"].passed
    top = materialization_metadata(result, "content_engagement")["top_contents"]
    assert top.count("\n") == 2 + 9  # header, rule, ten rows


def test_the_check_fails_when_a_row_is_missing(lms_env, real_sandbox, instance):
    db = lms_env(real_sandbox)
    assert materialize(instance, "content", "users").success
    assert materialize(instance, "activities", partition="2024-01-02").success
    assert materialize(instance, "content_engagement").success
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM lms.content_engagement WHERE content_id = (SELECT MAX(content_id) FROM lms.content_engagement)")
    assert not check_results(run_checks(instance, "content_engagement"))["content_engagement_matches_sources"].passed
