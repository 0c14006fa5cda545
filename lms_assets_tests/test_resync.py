"""`lms_dimensions_resync`: content and users rebuilt from a complete listing, soft deletes and the PII policy kept,
and readers never see the table empty or half-filled (issue #14 §4)."""

from __future__ import annotations

import threading

import duckdb
import pytest

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.dagster_helpers import materialization_metadata, materialize, run_job
from lms_assets_tests.helpers import query

GONE = frozenset({"usr_0000003", "usr_0000150"})


@pytest.mark.slow  # four Dagster runs
def test_a_resync_rebuilds_the_dimensions_and_keeps_soft_deletes_and_hashes(lms_env, make_sandbox, instance, monkeypatch):
    monkeypatch.setenv("SOURCES__LMS__PII__EMAIL", "hash")
    monkeypatch.setenv("SOURCES__LMS__PII_KEY", "a-test-pii-key-of-some-length")
    db = lms_env(make_sandbox())
    assert materialize(instance, "content", "users").success
    lms_env(make_sandbox(SandboxOptions(hidden_ids=GONE)))  # two users deleted upstream
    assert materialize(instance, "users").success
    before = dict(query(db, "SELECT id, deleted_at FROM lms.users WHERE is_deleted"))
    hashes = dict(query(db, "SELECT id, email FROM lms.users"))
    with duckdb.connect(str(db)) as con:  # a value that went wrong in the warehouse, and a stale column
        con.execute("UPDATE lms.users SET last_name = 'WRONG'")
        con.execute("UPDATE lms.content SET title = 'WRONG'")

    result = run_job(instance, "lms_dimensions_resync")
    assert result.success and materialization_metadata(result, "users")["resync"] is True
    # listed rows are rebuilt from the API; the carried deleted ones are kept as they were
    assert dict(query(db, "SELECT is_deleted, COUNT(*) FROM lms.users WHERE last_name = 'WRONG' GROUP BY 1")) == {True: 2}
    assert query(db, "SELECT COUNT(*) FROM lms.content WHERE title = 'WRONG'")[0][0] == 0
    # the soft-deleted users survive with their markers; every email is still the same hash
    assert dict(query(db, "SELECT id, deleted_at FROM lms.users WHERE is_deleted")) == before
    assert dict(query(db, "SELECT id, email FROM lms.users")) == hashes
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM lms.users")[0] == (300, 300)
    assert query(db, "SELECT COUNT(*) FROM lms.users WHERE email LIKE '%@%'")[0][0] == 0

    # a record the resync's listing no longer returns is carried and marked, like the refresh does
    lms_env(make_sandbox(SandboxOptions(hidden_ids=GONE | {"usr_0000200"})))
    assert run_job(instance, "lms_dimensions_resync").success
    assert {r[0] for r in query(db, "SELECT id FROM lms.users WHERE is_deleted")} == GONE | {"usr_0000200"}
    assert query(db, "SELECT COUNT(*) FROM lms.users")[0][0] == 300


@pytest.mark.postgres
def test_readers_never_see_the_users_table_empty_or_half_filled_during_a_resync(postgres_env, lms_env, make_sandbox, instance):
    import psycopg2

    lms_env(make_sandbox(SandboxOptions(latency_ms=5), users=3_000))
    assert materialize(instance, "content", "users").success
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:  # each count its own transaction, as a dashboard's queries are
        con = psycopg2.connect(postgres_env)
        con.autocommit = True
        try:
            while not stop.is_set():
                with con.cursor() as cur:
                    cur.execute("SELECT COUNT(*) FROM lms.users")
                    seen.append(cur.fetchone()[0])
        finally:
            con.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert run_job(instance, "lms_dimensions_resync").success
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 20 and set(seen) == {3_000}
