"""A refused or failed request reads the API's own words, and says what to do (issue #10)."""

from __future__ import annotations

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets.sources.lms import lms_source
from lms_assets.warehouse import make_pipeline
from lms_assets_tests.conftest import PASSWORD
from lms_assets_tests.dagster_helpers import materialize
from lms_assets_tests.helpers import row_count


def _failure_message(result) -> str:
    return next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error.message


def test_a_refused_request_fails_at_once_quoting_the_api(lms_env, make_sandbox, monkeypatch):
    sb = make_sandbox(profile="realistic")
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__BASE_URL", sb.base_url + "/rest")  # a root the API does not serve
    with pytest.raises(PipelineStepFailed) as err:
        make_pipeline("lms_test").run(lms_source().with_resources("users"))
    message = str(err.value)
    assert "refused GET" in message and "/rest/v1/users (page 1) with HTTP 404 ('no such endpoint /rest/v1/users')" in message
    assert "sources.lms.base_url" in message
    assert sb.stats.snapshot()["by_status"] == {"404": 1}  # not retried
    assert row_count(db, "users") == 0


def test_a_server_error_after_the_last_retry_quotes_the_api_in_dagster(lms_env, make_sandbox, instance, monkeypatch):
    sb = make_sandbox(SandboxOptions(fail_paths=("/v1/users",)), profile="realistic")
    lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__MAX_ATTEMPTS", "2")
    result = materialize(instance, "content", "users", raise_on_error=False)
    message = _failure_message(result)
    assert "HTTP 503 ('the service is down for maintenance') for GET" in message and "after all retries" in message
    assert sb.stats.snapshot()["by_path"]["/v1/users 503"] == 2


def test_refused_credentials_quote_the_api_and_never_the_password(lms_env, make_sandbox, monkeypatch):
    sb = make_sandbox(profile="realistic")
    lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__PASSWORD", "wrong-" + PASSWORD)
    with pytest.raises(PipelineStepFailed) as err:
        make_pipeline("lms_test").run(lms_source().with_resources("users"))
    message = str(err.value)
    assert "HTTP 401 ('invalid tenant ID or API secret')" in message and "sources.lms.password" in message
    assert PASSWORD not in message
