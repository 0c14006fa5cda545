"""Bad answers and bad config: a clear error naming what is wrong and what to do, nothing half-written (issue #4)."""

from __future__ import annotations

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets.sources.lms import lms_source
from lms_assets.sources.lms.errors import LmsConfigError
from lms_assets.warehouse import make_pipeline
from lms_assets_tests.cli import finish, materialize_cli
from lms_assets_tests.dagster_helpers import materialize
from lms_assets_tests.helpers import row_count, utc


def _run():
    make_pipeline("lms_test").run(lms_source(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6)))


@pytest.mark.parametrize("mode, path, expected", [
    ("not-json", "/v1/users", "/v1/users (page 2) answered 200 with a body that is not JSON"),
    ("no-results", "/v1/contents", "/v1/contents (page 2) answered 200 without a 'results' list"),
    ("no-id", "/v1/activities", "/v1/activities (page 2) returned a record without an 'id'"),
    ("no-date", "/v1/activities", "has no 'date'"),
    ("bad-date", "/v1/activities", "has a 'date' that is not a timestamp ('last tuesday')"),
])
def test_a_bad_answer_fails_the_load_naming_url_and_page(lms_env, make_sandbox, mode, path, expected):
    sb = make_sandbox(SandboxOptions(break_mode=mode, break_path=path, break_page=2))
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _run()
    assert expected in str(err.value)
    assert "nothing was loaded" in str(err.value) or "nothing was loaded for this window" in str(err.value)
    for table in ("users", "content", "activities"):
        assert row_count(db, table) == 0  # not half a listing, not the other resources either


def test_a_field_that_changes_type_between_pages_fails_clearly_in_dagster(lms_env, make_sandbox, instance):
    sb = make_sandbox(SandboxOptions(break_mode="type-change", break_path="/v1/users", break_page=2), users=450)
    db = lms_env(sb)
    result = materialize(instance, "content", "users", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "Column 'created_at' of lms.users changed type" in message and "nothing of this load was written" in message
    assert row_count(db, "users") == 0 and row_count(db, "content") == 0


def test_a_base_url_that_does_not_answer_fails_with_the_key_to_fix(lms_env, sandbox, instance, monkeypatch):
    lms_env(sandbox)
    monkeypatch.setenv("SOURCES__LMS__BASE_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("SOURCES__LMS__MAX_ATTEMPTS", "2")
    result = materialize(instance, "users", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "Could not reach the LMS API at http://127.0.0.1:9/v1/users" in message
    assert "sources.lms.base_url" in message


@pytest.mark.parametrize("value, expected", [
    ("2024-13-01", "sources.lms.start_date is '2024-13-01', not a date: set it as YYYY-MM-DD"),
    ("yesterday", "sources.lms.start_date is 'yesterday', not a date"),
    ("2999-01-01", "sources.lms.start_date is 2999-01-01, in the future"),
])
def test_a_bad_start_date_is_refused_before_any_request(lms_env, make_sandbox, value, expected):
    sb = make_sandbox()
    lms_env(sb)
    with pytest.raises(LmsConfigError, match="SOURCES__LMS__START_DATE") as err:
        lms_source(start_date=value)
    assert expected in str(err.value)
    assert sb.stats.snapshot()["requests"] == 0


@pytest.mark.slow
def test_a_partition_key_outside_the_partitions_is_refused(lms_env, make_sandbox, dagster_home):
    sb = make_sandbox()
    lms_env(sb)
    code, out = finish(materialize_cli(dagster_home, "--select", "lms/activities", "--partition", "1999-01-01"))
    assert code != 0
    assert "1999-01-01" in out
    assert sb.stats.snapshot()["requests"] == 0  # refused before any call to the API


def test_duckdb_running_out_of_memory_fails_in_one_sentence_and_commits_nothing(lms_env, sandbox, instance, monkeypatch):
    db = lms_env(sandbox)
    monkeypatch.setenv("LMS_DUCKDB_MEMORY_LIMIT", "1MB")  # far below what a merge needs
    result = materialize(instance, "activities", first="2024-01-01", last="2024-01-03", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "DuckDB ran out of the memory it is allowed (LMS_DUCKDB_MEMORY_LIMIT" in message
    assert "Raise LMS_DUCKDB_MEMORY_LIMIT" in message and "LMS_COMMIT_EVERY_DAYS" in message
    assert row_count(db, "activities") == 0
    monkeypatch.setenv("LMS_DUCKDB_MEMORY_LIMIT", "128MB")  # the same range loads once the limit allows it
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-03").success
    assert row_count(db, "activities") > 0
