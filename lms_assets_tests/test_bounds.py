"""Exact loads whatever the API's reading of timestampFrom/timestampTo, in the format it asks for (issue #10)."""

from __future__ import annotations

from functools import partial

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets.sources.lms import lms_source
from lms_assets_tests.conftest import PASSWORD
from lms_assets_tests.helpers import expected_activities, ids, load_source, query, row_count, utc

DOCUMENTED = "%Y-%m-%d %H:%M:%S"


_load = partial(load_source, "activities")


def _landed(db) -> dict[str, int]:
    return dict(query(db, "select id, epoch_ms(date) from lms.activities"))


@pytest.mark.parametrize("profile", ["realistic", "seed"])
@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_adjacent_windows_ranges_and_re_runs_are_exact_under_either_reading(lms_env, make_sandbox, bounds, profile):
    sb = make_sandbox(SandboxOptions(bounds=bounds), profile=profile)
    db = lms_env(sb)
    _load(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 3))
    first = set(ids(db, "activities"))
    _load(window_start=utc(2024, 1, 3), window_end=utc(2024, 1, 4))
    _load(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 4))  # the range again, over both days
    expected = expected_activities(sb.data, utc(2024, 1, 2), utc(2024, 1, 4))
    assert _landed(db) == expected
    assert row_count(db, "activities") == len(expected)  # merged, never duplicated
    assert first == set(expected_activities(sb.data, utc(2024, 1, 2), utc(2024, 1, 3)))
    # the activity exactly at midnight starts the second day; the one 250 ms before ends the first
    midnight = int(utc(2024, 1, 3).timestamp() * 1000)
    at = {i for i, ms in expected.items() if ms == midnight}
    start = {i for i, ms in expected.items() if ms == int(utc(2024, 1, 2).timestamp() * 1000)}
    assert at and start and at.isdisjoint(first) and start <= first


@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_fractional_window_bounds_under_either_reading(lms_env, make_sandbox, bounds):
    sb = make_sandbox(SandboxOptions(bounds=bounds), profile="realistic")
    db = lms_env(sb)
    start, end = utc(2024, 1, 2, 23, 59, 59, 750_000), utc(2024, 1, 3, 0, 0, 0, 1_000)
    _load(window_start=start, window_end=end)
    assert _landed(db) == expected_activities(sb.data, start, end) != {}


def test_the_documented_format_loads_a_strict_api_exactly(lms_env, make_sandbox, monkeypatch):
    sb = make_sandbox(SandboxOptions(strict_timestamps=True, bounds="exclusive"), profile="realistic")
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__TIMESTAMP_FORMAT", DOCUMENTED)
    _load(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 5))
    assert _landed(db) == expected_activities(sb.data, utc(2024, 1, 2), utc(2024, 1, 5))
    assert "400" not in sb.stats.snapshot()["by_status"]


def test_a_refused_timestamp_fails_at_once_naming_parameter_value_message_and_key(lms_env, make_sandbox):
    sb = make_sandbox(SandboxOptions(strict_timestamps=True), profile="realistic")
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 3))
    message = str(err.value)
    assert "HTTP 400" in message
    assert "timestampFrom='2024-01-01T23:59:59Z'" in message  # the value sent: a second before the window
    assert "timestampFrom must be a date formatted as YYYY-MM-DD hh:mm:ss" in message  # the API's own words
    assert "sources.lms.timestamp_format" in message and "SOURCES__LMS__TIMESTAMP_FORMAT" in message
    assert PASSWORD not in message
    assert sb.stats.snapshot()["by_status"] == {"400": 1}  # no retries of a 400
    assert row_count(db, "activities") == 0


def test_a_timestamp_format_without_seconds_is_refused_before_any_request(lms_env, make_sandbox, monkeypatch):
    from lms_assets.sources.lms.errors import LmsConfigError

    sb = make_sandbox(profile="realistic")
    lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__TIMESTAMP_FORMAT", "%Y-%m-%d")
    with pytest.raises(LmsConfigError, match="sources.lms.timestamp_format is '%Y-%m-%d'"):
        lms_source()
    assert sb.stats.snapshot()["requests"] == 0
