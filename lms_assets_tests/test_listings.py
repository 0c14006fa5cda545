"""Listings: totals used when present, perPage up to 1000, and listings that move while paged (issue #10)."""

from __future__ import annotations

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets.sources.lms import RequestStats, lms_source
from lms_assets.sources.lms.errors import LmsConfigError
from lms_assets.warehouse import make_pipeline
from lms_assets_tests.helpers import expected_activities, ids, query, row_count, utc


def _load(source):
    make_pipeline("lms_test").run(source)


def _served(sb) -> dict:
    return sb.stats.snapshot()["by_path"]


@pytest.mark.parametrize("contents", [400, 401, 199], ids=["exact-pages", "one-over", "one-short-page"])
def test_with_totals_a_listing_ends_on_its_last_page(lms_env, make_sandbox, contents):
    sb = make_sandbox(contents=contents, users=200, activities=50, days=1, profile="realistic")
    db = lms_env(sb)
    _load(lms_source(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 2)))
    assert ids(db, "content") == sorted(sb.data.content(i)["id"] for i in range(contents))
    served = _served(sb)
    assert served["/v1/contents 200"] == -(-contents // 200)  # no trailing empty request
    assert served["/v1/users 200"] == 1
    assert served["/v1/activities 200"] == 1


def test_an_empty_window_costs_one_request_with_totals_and_without(lms_env, make_sandbox):
    for totals in (True, False):
        sb = make_sandbox(SandboxOptions(totals=totals), profile="realistic")
        lms_env(sb)
        _load(lms_source(window_start=utc(2024, 2, 1), window_end=utc(2024, 2, 2)).with_resources("activities"))
        assert _served(sb) == {"/v1/activities 200": 1}


def test_without_totals_a_listing_ends_on_its_first_empty_page(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(totals=False), contents=400, profile="realistic")
    db = lms_env(sb)
    _load(lms_source().with_resources("content"))
    assert len(ids(db, "content")) == 400
    assert _served(sb)["/v1/contents 200"] == 3


def test_a_page_size_of_1000_reads_a_listing_in_one_request(lms_env, make_sandbox, monkeypatch):
    sb = make_sandbox(users=1000, profile="realistic")
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__PER_PAGE", "1000")
    _load(lms_source().with_resources("users"))
    assert len(ids(db, "users")) == 1000
    assert _served(sb) == {"/v1/users 200": 1}


@pytest.mark.parametrize("per_page", [0, 1001])
def test_a_page_size_outside_1_to_1000_is_refused(lms_env, sandbox, per_page):
    lms_env(sandbox)
    with pytest.raises(LmsConfigError, match=f"sources.lms.per_page is {per_page}: set it between 1 and 1000"):
        lms_source(per_page=per_page)


def test_rows_that_disagree_with_the_announced_total_fail_naming_both(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(break_mode="wrong-total", break_path="/v1/users", break_page=1), profile="realistic")
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load(lms_source(max_listing_reads=2).with_resources("users"))
    assert "300 records arrived where the first page announced totalResults 301" in str(err.value)
    assert "on each of 2 reads" in str(err.value)
    assert _served(sb)["/v1/users 200"] == 2 * 2  # two pages, read twice
    assert row_count(db, "users") == 0


@pytest.mark.parametrize("profile", ["realistic", "seed"])
def test_a_record_created_while_a_listing_is_paged_is_neither_lost_nor_doubled(lms_env, make_sandbox, profile):
    # one record is inserted at the front before page 2: the last of page 1 is pushed onto page 2
    sb = make_sandbox(SandboxOptions(drift=1), profile=profile)
    db = lms_env(sb)
    stats = RequestStats()
    # two requests in flight for two days: whole days, whose second page the insert pushes a record onto (a day
    # read in parts of a few pages could have the insert land on a page already read, then the next run loads it)
    _load(lms_source(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 4), request_stats=stats, max_concurrency=2))
    data = sb.data
    new_users = [r for _, r in sb.server.inserted["/v1/users"]]
    assert ids(db, "users") == sorted([data.user(i)["id"] for i in range(data.users)] + [r["id"] for r in new_users])
    new_activities = {r["id"] for _, r in sb.server.inserted["/v1/activities"]}
    landed = set(ids(db, "activities"))
    assert landed == set(expected_activities(data, utc(2024, 1, 2), utc(2024, 1, 4))) | new_activities
    for table in ("users", "activities"):
        total, distinct = query(db, f"select count(*), count(distinct id) from lms.{table}")[0]
        assert total == distinct
    assert stats.rereads["/v1/users"] == 1
    # the realistic profile reads the window as one listing; the seed's (no totalPages) reads it day by day,
    # and an insert within a second of midnight lies in two days' listings (each asked a second wider)
    assert stats.rereads["/v1/activities"] == 1 if profile == "realistic" else 1 <= stats.rereads["/v1/activities"] <= 2


def test_a_listing_that_never_holds_still_fails_clearly_with_nothing_written(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(drift=10), profile="realistic")
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load(lms_source(max_listing_reads=3).with_resources("users"))
    message = str(err.value)
    assert "GET v1/users: totalResults changed from" in message and "on each of 3 reads" in message
    assert "sources.lms.max_listing_reads" in message
    assert row_count(db, "users") == 0


def test_a_load_that_read_its_listing_twice_is_deduplicated_even_after_clean_loads(lms_env, make_sandbox):
    # A load whose ids were all distinct lets dlt's merge skip its deduplication (issue #12); dlt keeps
    # that hint in the stored schema, and a later load of a listing that moved holds ids twice.
    window = dict(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 4))
    db = lms_env(make_sandbox(profile="realistic"))
    pipeline = make_pipeline("lms_test")
    pipeline.run(lms_source(**window).with_resources("activities"))
    assert pipeline.default_schema.tables["activities"].get("x-stage-data-deduplicated") is True
    moving = make_sandbox(SandboxOptions(drift=1), profile="realistic")
    lms_env(moving)
    stats = RequestStats()
    pipeline.run(lms_source(request_stats=stats, **window).with_resources("activities"))
    assert stats.rereads["/v1/activities"] == 1  # page 1's last record was read twice
    total, distinct = query(db, "select count(*), count(distinct id) from lms.activities")[0]
    assert total == distinct
    new = {r["id"] for _, r in moving.server.inserted["/v1/activities"]}
    assert set(ids(db, "activities")) == set(expected_activities(moving.data, utc(2024, 1, 2), utc(2024, 1, 4))) | new
