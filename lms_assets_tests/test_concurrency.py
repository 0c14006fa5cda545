"""Pages read concurrently within the run's limits: exact, bounded, throttled together (issue #12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets.sources.lms import RequestStats, lms_source
from lms_assets.sources.lms.errors import LmsConfigError
from lms_assets.warehouse import make_pipeline
from lms_assets_tests.dagster_helpers import materialization_metadata, materialize
from lms_assets_tests.helpers import expected_activities, ids, load_source, query, row_count, utc

WINDOW = dict(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6))
DATA = dict(profile="realistic", activities=6_000, days=5)  # 30 pages of activities at 200


def _load(**kwargs) -> RequestStats:
    return load_source(**WINDOW, **kwargs)


def _assert_exact(db, sb) -> None:
    assert dict(query(db, "select id, epoch_ms(date) from lms.activities")) == expected_activities(
        sb.data, utc(2024, 1, 1), utc(2024, 1, 6))
    assert ids(db, "users") == sorted(sb.data.user(i)["id"] for i in range(sb.data.users))
    assert query(db, "select count(*) - count(distinct id) from lms.activities")[0][0] == 0


@pytest.mark.parametrize("fault_rate", [
    pytest.param(0.0, id="no-faults"),
    pytest.param(0.2, id="20pct-faults", marks=pytest.mark.slow),  # retries with backoff: the full suite's
])
@pytest.mark.parametrize("concurrency", [1, 8])
def test_exact_with_one_or_eight_requests_in_flight(lms_env, make_sandbox, concurrency, fault_rate):
    sb = make_sandbox(SandboxOptions(latency_ms=5, fault_rate=fault_rate, retry_after=(0,)), **DATA)
    db = lms_env(sb)
    stats = _load(max_concurrency=concurrency)
    _assert_exact(db, sb)
    served = sb.stats.snapshot()
    if concurrency == 1:
        assert served["max_in_flight"] == 1
    else:
        assert served["max_in_flight"] > 1  # requests really overlapped
    assert served["max_in_flight"] <= concurrency
    if not fault_rate:  # with totals: ceil(rows / perPage) per listing, nothing more
        rows = len(sb.data.activity_range(int(utc(2023, 12, 31, 23, 59, 59).timestamp() * 1000),
                                          int(utc(2024, 1, 6, 0, 0, 1).timestamp() * 1000)))
        assert served["by_path"]["/v1/activities 200"] == -(-rows // 200)
    assert stats.requests == served["requests"]


@pytest.mark.slow  # seconds of waiting or several runs: the full suite's
def test_requests_per_second_is_never_exceeded_across_threads(lms_env, make_sandbox, monkeypatch):
    sb = make_sandbox(**DATA)
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__PER_PAGE", "100")  # 60+ requests: several seconds at 20/s
    monkeypatch.setenv("SOURCES__LMS__REQUESTS_PER_SECOND", "20")
    _load(max_concurrency=8)
    _assert_exact(db, sb)
    served = sb.stats.snapshot()
    assert served["requests"] > 60
    assert served["max_per_second"] <= 20


@pytest.mark.slow  # seconds of waiting or several runs: the full suite's
def test_requests_per_second_holds_at_the_api_when_requests_arrive_late_and_out_of_order(lms_env, make_sandbox, monkeypatch):
    # A request arrives some time between its turn and its answer; counted from its turn, one held on
    # the way (here up to 150 ms) and the one sent a window after it land in the same second at the API.
    sb = make_sandbox(SandboxOptions(arrival_jitter_ms=150, latency_ms=40), **DATA)  # answers take time: requests overlap
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__PER_PAGE", "100")
    monkeypatch.setenv("SOURCES__LMS__REQUESTS_PER_SECOND", "20")
    _load(max_concurrency=8)
    _assert_exact(db, sb)
    served = sb.stats.snapshot()
    assert served["requests"] > 60 and served["max_in_flight"] > 1
    assert served["max_per_second"] <= 20


@pytest.mark.slow  # seconds of waiting or several runs: the full suite's
def test_a_rate_limited_api_slows_the_whole_run_without_losing_a_row(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(rate_limit=15), **DATA)
    db = lms_env(sb)
    stats = _load(max_concurrency=8)
    _assert_exact(db, sb)
    refused = sb.stats.snapshot()["by_status"].get("429", 0)
    assert refused > 0 and stats.throttle.refusals == refused  # every refusal reached the shared throttle
    assert stats.throttle.limit < 8 or stats.throttle.refusals < 3  # it backed off its concurrency


def test_a_page_that_fails_among_concurrent_pages_leaves_nothing_half_written(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(break_mode="not-json", break_path="/v1/activities", break_page=7,
                                     latency_ms=5), **DATA)
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load(max_concurrency=8)
    assert "/v1/activities (page 7) answered 200 with a body that is not JSON" in str(err.value)
    for table in ("users", "content", "activities"):
        assert row_count(db, table) == 0


def test_a_concurrency_below_one_is_refused(lms_env, sandbox):
    lms_env(sandbox)
    with pytest.raises(LmsConfigError, match="sources.lms.max_concurrency is 0"):
        lms_source(max_concurrency=0)


@pytest.mark.slow  # a Dagster run
def test_a_dagster_run_reports_its_requests_and_how_many_were_in_flight(lms_env, make_sandbox, instance):
    sb = make_sandbox(SandboxOptions(latency_ms=5), **DATA)
    lms_env(sb)
    result = materialize(instance, "activities", first="2024-01-01", last="2024-01-05")
    meta = materialization_metadata(result, "activities")
    assert meta["requests"] == sb.stats.snapshot()["requests"]
    assert 1 < meta["peak_requests_in_flight"] <= 8  # the default sources.lms.max_concurrency


@pytest.mark.slow  # two `dagster` processes
def test_two_range_runs_launched_together_overlap_their_api_reads(lms_env, make_sandbox, dagster_home, monkeypatch):
    """Issue #13: the DuckDB lock covers loads, not API reads, so two runs read the API at the same time."""
    import subprocess
    import time

    from lms_assets_tests.cli import dagster, finish, materialize_cli

    sb = make_sandbox(SandboxOptions(latency_ms=60), profile="realistic", activities=6_000, days=6)
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__MAX_CONCURRENCY", "1")  # one request per run at a time: overlap is across runs
    monkeypatch.setenv("SOURCES__LMS__PER_PAGE", "10")  # ~300 pages (~18 s of reading) per run
    assert finish(dagster(dagster_home, "instance", "migrate"))[0] == 0  # storage created once, before runs race
    first = materialize_cli(dagster_home, "--select", "lms/activities", "--partition-range", "2024-01-01...2024-01-03",
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not sb.stats.snapshot()["by_path"].get("/v1/activities 200"):  # the first run is reading
        assert first.poll() is None and time.monotonic() < deadline, "the first run never started reading"
        time.sleep(0.05)
    second = materialize_cli(dagster_home, "--select", "lms/activities", "--partition-range", "2024-01-04...2024-01-06",
                             stderr=subprocess.STDOUT)
    for proc in (first, second):
        code, out = finish(proc)
        assert code == 0, out[-3000:]
    assert sb.stats.snapshot()["max_in_flight"] == 2
    assert dict(query(db, "select id, epoch_ms(date) from lms.activities")) == expected_activities(
        sb.data, utc(2024, 1, 1), utc(2024, 1, 7))


@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_without_totals_the_days_of_a_window_are_read_concurrently(lms_env, make_sandbox, bounds):
    # issue #21: no `totalPages`, so the window is read as UTC days, several at once, each ending on one
    # empty page; the activities at midnight and 250 ms before it land once, under either bound reading
    sb = make_sandbox(SandboxOptions(latency_ms=20, totals=False, bounds=bounds), **DATA)
    db = lms_env(sb)
    stats = _load(max_concurrency=4)  # no fewer days than requests in flight: whole days
    _assert_exact(db, sb)
    assert sb.stats.snapshot()["max_in_flight"] >= 3
    per_day = [len(expected_activities(sb.data, utc(2024, 1, d), utc(2024, 1, d + 1))) for d in range(1, 6)]
    # each day ceil(rows/200) pages and one empty (a day asked a second wider may need one page more),
    # plus the first page of the whole window, read to learn there are no totals
    most = 1 + sum(-(-(n + 2) // 200) + 1 for n in per_day)
    assert sum(-(-n // 200) + 1 for n in per_day) + 1 <= stats.pages["/v1/activities"] <= most


def _pages_of_parts(data, parts: list[tuple]) -> tuple[int, int]:
    """(fewest, most) pages of reading each part as a listing ending on one empty page (asked a second wider)."""
    rows = [len(expected_activities(data, lo, hi)) for lo, hi in parts]
    return sum(-(-n // 200) + 1 for n in rows), sum(-(-(n + 2) // 200) + 1 for n in rows)


@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_without_totals_heavy_days_of_a_short_window_are_read_in_parts(lms_env, make_sandbox, bounds):
    # issue #21: five busy days and ten requests to keep in flight: each day whose first page is full is
    # read as two runs of twelve hours (its first page discarded), exact at midnight and noon
    sb = make_sandbox(SandboxOptions(latency_ms=20, totals=False, bounds=bounds), **DATA)
    db = lms_env(sb)
    stats = _load(max_concurrency=10)
    _assert_exact(db, sb)
    assert sb.stats.snapshot()["max_in_flight"] >= 5
    halves = [(utc(2024, 1, d, h), utc(2024, 1, d, h) + timedelta(hours=12)) for d in range(1, 6) for h in (0, 12)]
    fewest, most = _pages_of_parts(sb.data, halves)
    assert fewest + 5 + 1 <= stats.pages["/v1/activities"] <= most + 5 + 1  # + each day's first page, the window's


@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_without_totals_a_one_day_window_is_read_in_parts_at_once(lms_env, make_sandbox, bounds):
    # the daily run of a busy tenant: one day, read as eight runs of three hours, eight at a time
    sb = make_sandbox(SandboxOptions(latency_ms=20, totals=False, bounds=bounds), profile="realistic", activities=6_000, days=1)
    db = lms_env(sb)
    stats = RequestStats()
    make_pipeline("lms_test").run(lms_source(request_stats=stats, window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 2),
                                             max_concurrency=8).with_resources("activities"))
    assert dict(query(db, "select id, epoch_ms(date) from lms.activities")) == expected_activities(
        sb.data, utc(2024, 1, 1), utc(2024, 1, 2))
    assert sb.stats.snapshot()["max_in_flight"] >= 5
    parts = [(utc(2024, 1, 1, h), utc(2024, 1, 1, h) + timedelta(hours=3)) for h in range(0, 24, 3)]
    fewest, most = _pages_of_parts(sb.data, parts)
    assert fewest + 1 <= stats.pages["/v1/activities"] <= most + 1


def test_without_totals_a_failing_day_fails_the_load_and_writes_nothing(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(totals=False, outage_after="2024-01-04T00:00:00Z"), **DATA)
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load(max_concurrency=8, max_attempts=2)
    assert "503" in str(err.value)
    assert row_count(db, "activities") == 0


def test_without_totals_a_failure_asks_nothing_of_the_days_not_yet_begun(lms_env, make_sandbox):
    # every day's page 2 is a bad answer: the first day to reach it fails the load, and the days whose turn
    # had not come are never asked (not 30 days' first pages before the failure is reported)
    sb = make_sandbox(SandboxOptions(totals=False, break_mode="not-json", break_path="/v1/activities", break_page=2),
                      profile="realistic", activities=6_000, days=30)
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        make_pipeline("lms_test").run(lms_source(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 31),
                                                 max_concurrency=2).with_resources("activities"))
    assert "answered 200 with a body that is not JSON" in str(err.value)
    asked = sb.stats.snapshot()["by_path"]["/v1/activities 200"]
    assert asked <= 1 + 2 * 2 + 2  # the whole window's first page, the two days in flight, two more at most
    assert row_count(db, "activities") == 0


def test_a_window_read_in_parts_is_whole_every_time(lms_env, make_sandbox):
    # A heavy day's parts used to start before the reader counted them: a part could finish first and the
    # reader stop short, silently, 4 reads in 100 on an idle machine and 14 under load (session 12). Read a
    # two-day window (each day in four parts) many times; every read must hold every activity of it.
    sb = make_sandbox(SandboxOptions(totals=False))
    lms_env(sb)
    want = len(expected_activities(sb.data, utc(2024, 1, 2), utc(2024, 1, 4)))
    short = []
    for _ in range(80):
        source = lms_source(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 4), max_concurrency=8)
        rows = sum(getattr(item, "num_rows", 0) for item in source.with_resources("activities"))
        if rows != want:
            short.append(rows)
    assert not short, f"reads of {want} activities that came back short: {short}"
