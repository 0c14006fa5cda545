"""The dlt source against the sandbox over HTTP, into a real DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lms_assets.sources.lms import lms_source
from lms_assets_tests.helpers import as_json, expected_activities, ids, load_source, query, utc

_load = load_source  # the seed's three resources


def test_full_load_equals_the_sandbox(lms_env, sandbox, tmp_path):
    db = lms_env(sandbox)
    _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6))
    data = sandbox.data
    assert ids(db, "users") == sorted(data.user(i)["id"] for i in range(data.users))
    assert ids(db, "content") == sorted(data.content(i)["id"] for i in range(data.contents))
    assert dict(query(db, "select id, epoch_ms(date) from lms.activities")) == expected_activities(
        data, utc(2024, 1, 1), utc(2024, 1, 6))
    assert len(data.activity_ms) == data.activities  # every generated activity is in the span


def test_the_objects_frozen_for_a_window_read_are_handed_back(lms_env, sandbox):
    """The read keeps the collector off older objects (heap.py) and unfreezes them after: nothing is kept."""
    import gc

    db = lms_env(sandbox)
    during: list[tuple[int, int]] = []
    thresholds = gc.get_threshold()
    _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6), progress_every_s=0,
          progress=lambda _: during.append((gc.get_freeze_count(), gc.get_threshold()[0])))
    assert during and during[0][0] > 1000 and during[0][1] == 20_000  # (the last report comes after the read)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    assert ids(db, "activities") == sorted(expected_activities(sandbox.data, utc(2024, 1, 1), utc(2024, 1, 6)))


def test_a_read_and_its_load_keep_to_two_malloc_arenas(lms_env, sandbox):
    """The page threads and DuckDB's workers share two glibc arenas (malloc_arenas.py), so what one frees
    another reuses; each would otherwise keep an arena of its own. In a process of its own: arenas last."""
    db = lms_env(sandbox)
    code = (
        "import ctypes; from datetime import datetime, timezone; from lms_assets.sources.lms import lms_source; "
        "from lms_assets.warehouse import make_pipeline; utc = lambda d: datetime(2024, 1, d, tzinfo=timezone.utc); "
        "make_pipeline('lms_arenas').run(lms_source(window_start=utc(1), window_end=utc(6), max_concurrency=4)"
        ".with_resources('activities')); ctypes.CDLL(None).malloc_stats()"
    )
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}  # the operator's own would win
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    arenas = [line for line in done.stderr.splitlines() if line.startswith("Arena ")]
    assert 1 <= len(arenas) <= 2, done.stderr[-2000:]
    assert ids(db, "activities") == sorted(expected_activities(sandbox.data, utc(2024, 1, 1), utc(2024, 1, 6)))


def test_column_types_follow_the_api_schema(lms_env, sandbox):
    db = lms_env(sandbox)
    _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 2))
    types = {(t, c): (d, n) for t, c, d, n in query(db, """
        select table_name, column_name, data_type, is_nullable from information_schema.columns
        where table_schema = 'lms'""")}
    assert types[("activities", "id")] == ("VARCHAR", "NO")
    assert types[("activities", "date")] == ("TIMESTAMP WITH TIME ZONE", "NO")
    assert types[("activities", "data")][0] == "JSON"
    assert types[("content", "tags")][0] == "JSON"
    assert types[("content", "is_official")][0] == "BOOLEAN"
    assert types[("users", "created_at")][0] == "TIMESTAMP WITH TIME ZONE"
    assert types[("content", "updated_at")][0] == "TIMESTAMP WITH TIME ZONE"
    # profile fields the seed does not list arrive as columns of their own
    assert {("users", c) for c in ("status", "role", "locale", "department")} <= types.keys()
    # no child tables, no column per varying `data` key
    tables = {t for t, in query(db, "select table_name from information_schema.tables where table_schema = 'lms'")}
    assert {t for t in tables if not t.startswith("_dlt")} == {"activities", "content", "users"}


def test_json_values_and_nulls_survive(lms_env, sandbox):
    db = lms_env(sandbox)
    _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 2))
    data = sandbox.data
    loaded = {r[0]: r[1:] for r in query(db, "select id, data, type, context_id, \"user\" from lms.activities")}
    checked = 0
    for i, _ in enumerate(data.activity_ms):
        a = data.activity(i)
        if a["id"] in loaded:
            got_data, got_type, got_ctx, got_user = loaded[a["id"]]
            assert (as_json(got_data), got_type, got_ctx, got_user) == (a["data"], a["type"], a["contextId"], a["user"])
            checked += 1
    assert checked == len(loaded) > 0
    tags = dict(query(db, "select id, tags from lms.content"))
    for i in range(data.contents):
        c = data.content(i)
        assert as_json(tags[c["id"]]) == c["tags"]  # null stays null, [] stays []
    official = dict(query(db, "select id, is_official from lms.content"))
    assert all(official[data.content(i)["id"]] == data.content(i)["isOfficial"] for i in range(data.contents))


def test_loading_again_adds_no_duplicates(lms_env, sandbox):
    db = lms_env(sandbox)
    for _ in range(2):
        _load(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 4))
    for table in ("users", "content", "activities"):
        total, distinct = query(db, f"select count(*), count(distinct id) from lms.{table}")[0]
        assert total == distinct > 0
    assert query(db, "select count(*) from lms.activities")[0][0] == len(
        expected_activities(sandbox.data, utc(2024, 1, 2), utc(2024, 1, 4)))


def test_adjacent_windows_neither_lose_nor_duplicate_at_the_boundary(lms_env, sandbox):
    db = lms_env(sandbox)
    _load(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 3))
    first = set(ids(db, "activities"))
    _load(window_start=utc(2024, 1, 3), window_end=utc(2024, 1, 4))
    both = dict(query(db, "select id, epoch_ms(date) from lms.activities"))
    expected = expected_activities(sandbox.data, utc(2024, 1, 2), utc(2024, 1, 4))
    assert both == expected
    assert first == set(expected_activities(sandbox.data, utc(2024, 1, 2), utc(2024, 1, 3)))
    # the sandbox puts one activity exactly at midnight and one 250 ms before it
    midnight = int(utc(2024, 1, 3).timestamp() * 1000)
    at = [i for i, ms in expected.items() if ms == midnight]
    before = [i for i, ms in expected.items() if ms == midnight - 250]
    assert at and before
    assert set(at).isdisjoint(first) and set(before) <= first


def test_fractional_window_bounds_are_compared_as_instants(lms_env, sandbox):
    db = lms_env(sandbox)
    start, end = utc(2024, 1, 2, 23, 59, 59, 750_000), utc(2024, 1, 3, 0, 0, 0, 1_000)
    _load(window_start=start, window_end=end)
    assert dict(query(db, "select id, epoch_ms(date) from lms.activities")) == expected_activities(
        sandbox.data, start, end)


@pytest.mark.parametrize("totals", [True, False], ids=["with-totals", "without-totals"])
@pytest.mark.parametrize("contents", [400, 401, 199], ids=["exact-pages", "one-over", "one-short-page"])
def test_pagination_ends_right(lms_env, make_sandbox, totals, contents):
    from lms_assets.sandbox import SandboxOptions

    sb = make_sandbox(SandboxOptions(totals=totals), contents=contents, users=200, activities=50, days=1)
    db = lms_env(sb)
    _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 2))
    assert len(ids(db, "content")) == contents
    assert ids(db, "content") == sorted(sb.data.content(i)["id"] for i in range(contents))
    served = sb.stats.snapshot()["by_path"]
    # every full page, the short one if any, and at most one empty page
    assert served["/v1/contents 200"] == -(-contents // 200) + 1
    assert served["/v1/users 200"] == 2


@pytest.mark.parametrize("bypassed", [False, True], ids=["through-the-proxy", "no_proxy"])
def test_the_environments_proxy_settings_are_honoured(lms_env, sandbox, monkeypatch, bypassed):
    """A proxy named in the environment is used unless NO_PROXY names the host: the session reads these
    variables once per host (session.environment_once_per_host), not never."""
    from lms_assets.sandbox.process import free_port

    lms_env(sandbox)
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there: a request through it fails
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, nowhere)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    if bypassed:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    source = lms_source(max_attempts=1, request_timeout=5).with_resources("content")
    if bypassed:
        assert len(list(source)) == sandbox.data.contents  # every record, read directly
    else:
        with pytest.raises(Exception, match="(?i)proxy"):
            list(source)
