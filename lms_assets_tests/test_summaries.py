"""User-activity summaries against values computed here from the sandbox's own records (issue #3)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timezone

import duckdb
import pytest

from lms_assets.warehouse import utc_day_sql
from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize
from lms_assets_tests.helpers import query


def _activities(data, first_day: int, last_day: int) -> list[dict]:
    out = []
    for i, ms in enumerate(data.activity_ms):
        day = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
        if first_day <= day.day <= last_day:
            out.append({**data.activity(i), "ms": ms, "day": day.date()})
    return out


def _load(instance, first: str, last: str) -> None:
    assert materialize(instance, "content", "users").success
    assert materialize(instance, "activities", first=first, last=last).success


def test_daily_summary_equals_an_independent_count(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    _load(instance, "2024-01-01", "2024-01-05")
    result = materialize(instance, "user_activity_daily", first="2024-01-02", last="2024-01-04")
    assert result.success
    expected = defaultdict(lambda: [0, 0, set()])
    for a in _activities(sandbox.data, 2, 4):
        if a["user"] is None:
            continue
        row = expected[(a["user"], a["day"])]
        row[0] += 1
        row[1] += a["type"] == "completed"
        if a["contextId"] is not None:
            row[2].add(a["contextId"])
    got = {(u, d): (n, c, k) for u, d, n, c, k in query(db, """
        SELECT user_id, activity_date, activity_count, completed_count, distinct_contents FROM lms.user_activity_daily""")}
    assert got == {k: (v[0], v[1], len(v[2])) for k, v in expected.items()}
    assert check_results(result)["daily_counts_match_activities"].passed
    assert materialization_metadata(result, "user_activity_daily")["dagster/row_count"] == len(expected)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles", "UTC"])
def test_the_day_of_an_activity_is_its_utc_day_whatever_the_session_time_zone(zone):
    """The summaries' day expression, on a DuckDB session set to another zone."""
    with duckdb.connect() as con:
        con.execute(f"SET TimeZone = '{zone}'")
        rows = con.execute(f"""
            SELECT {utc_day_sql("t")} FROM (VALUES
                (TIMESTAMPTZ '2024-01-02 00:00:00+00'), (TIMESTAMPTZ '2024-01-01 23:59:59.75+00'),
                (TIMESTAMPTZ '2024-01-02 23:59:59.999+00')) AS v(t)""").fetchall()
    assert [r[0].isoformat() for r in rows] == ["2024-01-02", "2024-01-01", "2024-01-02"]


@pytest.mark.slow  # several Dagster runs: left out of `make test-fast`
def test_daily_rerun_replaces_only_its_window(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    _load(instance, "2024-01-01", "2024-01-05")
    assert materialize(instance, "user_activity_daily", first="2024-01-01", last="2024-01-05").success
    before = query(db, "SELECT * FROM lms.user_activity_daily ORDER BY 1, 2")
    assert materialize(instance, "user_activity_daily", partition="2024-01-03").success
    assert query(db, "SELECT * FROM lms.user_activity_daily ORDER BY 1, 2") == before


def test_user_summary_has_one_row_per_user_with_independent_values(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    _load(instance, "2024-01-01", "2024-01-05")
    result = materialize(instance, "user_activity_summary")
    assert result.success
    data = sandbox.data
    acts = [a for a in _activities(data, 1, 5) if a["user"] is not None]
    counts = Counter(a["user"] for a in acts)
    days = defaultdict(set)
    last = {}
    for a in sorted(acts, key=lambda a: (a["ms"], a["id"])):
        days[a["user"]].add(a["day"])
        last[a["user"]] = a
    rows = {r[0]: r[1:] for r in query(db, """
        SELECT user_id, email, first_name, last_name, activity_count, active_days,
               epoch_ms(first_activity_at), epoch_ms(last_activity_at), last_activity_type
        FROM lms.user_activity_summary""")}
    assert len(rows) == data.users
    for i in range(data.users):
        u = data.user(i)
        email, first, lastname, n, active, _, last_ms, last_type = rows[u["id"]]
        assert (email, first, lastname) == (u["email"], u["firstName"], u["lastName"])
        assert n == counts.get(u["id"], 0) and active == len(days.get(u["id"], ()))
        if n == 0:
            assert (last_ms, last_type) == (None, None)
        else:
            assert (last_ms, last_type) == (last[u["id"]]["ms"], last[u["id"]]["type"])
    assert "| user_id |" in materialization_metadata(result, "user_activity_summary")["top_users"]


@pytest.mark.slow  # seconds of waiting or several runs: the full suite's
def test_user_summary_carries_a_daily_chart(lms_env, sandbox, instance):
    """Issue #7: a chart of daily active users and activities per day, as markdown with an SVG image."""
    import base64

    lms_env(sandbox)
    _load(instance, "2024-01-01", "2024-01-05")
    meta = materialization_metadata(materialize(instance, "user_activity_summary"), "user_activity_summary")
    chart = meta["daily_activity"]
    uri = chart.split("](", 1)[1].split(")", 1)[0]
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and svg.count("<rect") == 5 + 1  # a bar per day, plus the background
    assert "| 2024-01-05 |" in chart


def test_a_warehouse_resource_passed_in_replaces_the_environment(lms_env, sandbox, instance, tmp_path):
    # issue #11: the warehouse is a resource; a second location (or a test) passes its own
    from lms_assets.tenant.resources import WarehouseResource

    env_db = lms_env(sandbox)
    own = WarehouseResource(duckdb_path=str(tmp_path / "own.duckdb"), pipelines_dir=str(tmp_path / "own-dlt"))
    assert materialize(instance, "activities", partition="2024-01-02", warehouse=own).success
    assert materialize(instance, "user_activity_daily", partition="2024-01-02", warehouse=own).success
    assert query(tmp_path / "own.duckdb", "SELECT COUNT(*) FROM lms.user_activity_daily")[0][0] > 0
    assert not env_db.exists()  # nothing went where the environment points
