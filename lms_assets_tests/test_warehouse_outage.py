"""The warehouse goes away mid-run: a short outage is ridden out, a long one ends in one sentence (issue #38)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import duckdb
import pytest

from lms_assets.warehouse import Warehouse, load_log
from lms_assets_tests.dagster_helpers import materialize, run_range
from lms_assets_tests.helpers import expected_activities, pg, query, utc
from lms_assets_tests.tcp_proxy import TcpProxy

DAYS = ("2024-01-01", "2024-01-05")  # three slices of two days: [1, 3), [3, 5), [5, 6)


def _failure(result) -> str:
    message = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error.message
    return message.split("Failure: ", 1)[-1].strip()


def _ms(value) -> int:
    return int(value.timestamp() * 1000)


@pytest.fixture
def proxied(postgres_env, monkeypatch):
    """(the database's own URL, the proxy the loads go through): `proxy.outage()` takes the server away."""
    url = urlsplit(postgres_env)
    proxy = TcpProxy(url.hostname, url.port)
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS",
                       urlunsplit(url._replace(netloc=f"{url.username}:{url.password}@127.0.0.1:{proxy.port}")))
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    yield postgres_env, proxy
    proxy.close()


def _outage_after_first_slice(url: str, proxy: TcpProxy, seconds: float) -> threading.Thread:
    """Take the server away once the first slice is committed (the second is being read and written) for `seconds`."""
    def cut() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if pg(url, "SELECT COUNT(*) FROM lms._lms_windows")[0][0] >= 1:
                    break
            except Exception:  # noqa: BLE001 - not created yet
                pass
            time.sleep(0.02)
        proxy.outage()
        time.sleep(seconds)
        proxy.back()

    thread = threading.Thread(target=cut, daemon=True)
    thread.start()
    return thread


def _rows(url: str) -> dict[str, int]:
    return dict(pg(url, "SELECT id, (EXTRACT(EPOCH FROM date) * 1000)::bigint FROM lms.activities"))


@pytest.mark.postgres
@pytest.mark.slow
def test_a_ten_second_outage_mid_write_is_ridden_out(proxied, make_sandbox, lms_env, instance):
    url, proxy = proxied
    sb = make_sandbox(profile="realistic")
    lms_env(sb)
    outage = _outage_after_first_slice(url, proxy, 10)
    result = run_range(instance, *DAYS)
    outage.join()
    assert result.success, _failure(result)
    assert _rows(url) == expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 6))
    assert [r for r, in pg(url, "SELECT rows FROM lms._lms_windows ORDER BY window_start")] == [
        len(expected_activities(sb.data, a, b)) for a, b in ((utc(2024, 1, 1), utc(2024, 1, 3)),
                                                             (utc(2024, 1, 3), utc(2024, 1, 5)), (utc(2024, 1, 5), utc(2024, 1, 6)))]


@pytest.mark.postgres
@pytest.mark.slow
def test_a_longer_outage_fails_in_one_sentence_and_the_rerun_reads_nothing_it_kept(proxied, make_sandbox, lms_env,
                                                                                    instance, monkeypatch):
    url, proxy = proxied
    monkeypatch.setenv("LMS_WAREHOUSE_OUTAGE_SECONDS", "3")
    sb = make_sandbox(profile="realistic")
    lms_env(sb)
    outage = _outage_after_first_slice(url, proxy, 15)
    failed = run_range(instance, *DAYS)
    assert not failed.success
    message = _failure(failed)
    assert message.startswith(f"The warehouse (PostgreSQL at 127.0.0.1:{proxy.port}, database ")
    assert " failed while writing days 2024-01-03 to 2024-01-04 of " in message and "lms.activities: " in message
    assert "did not come back within 3 s (LMS_WAREHOUSE_OUTAGE_SECONDS)" in message
    assert "DESTINATION__POSTGRES__CREDENTIALS" in message and "\n" not in message
    assert message.endswith("days 2024-01-03 to 2024-01-04, already read, load without asking the API again.")
    assert urlsplit(url).password not in message
    outage.join()

    # whole days only: the first slice, exactly
    assert _rows(url) == expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 3))
    sb.stats.reset()
    retry = run_range(instance, *DAYS, reexecute_from=failed.run_id)
    assert retry.success, _failure(retry)
    assert _rows(url) == expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 6))
    # the kept slice [3, 5) is loaded as extracted: the API is asked only for the last slice
    assert sb.stats.windows and min(lo for lo, _ in sb.stats.windows) >= _ms(utc(2024, 1, 5)) - 1000
    assert pg(url, "SELECT COUNT(*), COUNT(DISTINCT window_start) FROM lms._lms_windows")[0] == (3, 3)


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2]))"


def _hold(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_duckdb_file_locked_by_another_process_is_waited_for_then_named(lms_env, sandbox, instance, monkeypatch):
    db = lms_env(sandbox)
    assert materialize(instance, "activities", partition="2024-01-01").success  # the file exists
    monkeypatch.setenv("LMS_WAREHOUSE_OUTAGE_SECONDS", "1")
    holder = _hold(db, 60)
    try:
        result = materialize(instance, "activities", partition="2024-01-02", raise_on_error=False)
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    message = _failure(result)
    assert message.startswith(f"The warehouse (DuckDB file {db}) failed while connecting to load lms.activities: "
                              "another process holds the database file's lock and did not come back within 1 s")
    assert "DESTINATION__DUCKDB__CREDENTIALS" in message and "\n" not in message

    monkeypatch.setenv("LMS_WAREHOUSE_OUTAGE_SECONDS", "60")
    holder = _hold(db, 3)  # released while the run waits
    result = materialize(instance, "activities", partition="2024-01-02")
    holder.wait()
    assert result.success
    assert query(db, "SELECT COUNT(*) FROM lms.activities WHERE date >= '2024-01-02' AND date < '2024-01-03'")[0][0] == len(
        expected_activities(sandbox.data, utc(2024, 1, 2), utc(2024, 1, 3)))


def test_a_bad_outage_setting_is_refused_in_one_sentence(lms_env, sandbox, instance, monkeypatch):
    lms_env(sandbox)
    monkeypatch.setenv("LMS_WAREHOUSE_OUTAGE_SECONDS", "soon")
    result = materialize(instance, "activities", partition="2024-01-01", raise_on_error=False)
    assert "LMS_WAREHOUSE_OUTAGE_SECONDS is 'soon': set it to the seconds" in _failure(result)


def test_a_slice_committed_by_dlt_but_not_logged_is_logged_by_the_next_load(lms_env, sandbox, instance, monkeypatch):
    """A process killed between dlt's commit and the log row: its intent is promoted, no committed day goes missing."""
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    db = lms_env(sandbox)
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-04").success
    logged = query(db, "SELECT * FROM lms._lms_windows ORDER BY window_start")
    assert query(db, "SELECT COUNT(*) FROM lms._lms_windows_pending")[0][0] == 0
    # as the kill leaves it: the last slice's intent written, dlt's load recorded, the log row not
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO lms._lms_windows_pending SELECT * FROM lms._lms_windows WHERE window_start = "
                    "(SELECT MAX(window_start) FROM lms._lms_windows)")
        con.execute("DELETE FROM lms._lms_windows WHERE window_start = (SELECT MAX(window_start) FROM lms._lms_windows)")
    with Warehouse.from_env().sql_client() as client:
        root = logged[-1][7]
        assert sorted(load_log.committed_windows(client, "activities", root)) == [(r[1], r[2]) for r in logged]
    assert query(db, "SELECT * FROM lms._lms_windows ORDER BY window_start") == logged
    assert query(db, "SELECT COUNT(*) FROM lms._lms_windows_pending")[0][0] == 0
