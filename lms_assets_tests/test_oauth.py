"""OAuth 2.0 client credentials: one token for every thread and slice, renewed before expiry and once on a 401,
refusals in one sentence, the secret and the token nowhere (issue #20)."""

from __future__ import annotations

from functools import partial

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets.sources.lms import RequestStats, lms_source
from lms_assets.sources.lms.auth import region_base_url, token_url
from lms_assets.sources.lms.errors import LmsConfigError
from lms_assets.warehouse import make_pipeline
from lms_assets_tests.dagster_helpers import materialize
from lms_assets_tests.helpers import expected_activities, ids, load_source, row_count, utc

CLIENT_SECRET = "Oa-unique-Cl1entSecret-9931"


@pytest.fixture
def oauth_env(lms_env, monkeypatch):
    """lms_env with OAuth credentials instead of the password; returns (point_at, set the sandbox's secret)."""
    def point_at(sb):
        sb.options.client_secret = CLIENT_SECRET
        db = lms_env(sb)
        monkeypatch.setenv("SOURCES__LMS__TOKEN_URL", f"{sb.base_url}/oauth2/token/{sb.options.tenant_id}")
        return db

    monkeypatch.delenv("SOURCES__LMS__USERNAME")
    monkeypatch.delenv("SOURCES__LMS__PASSWORD")
    monkeypatch.setenv("SOURCES__LMS__AUTH", "oauth2")
    monkeypatch.setenv("SOURCES__LMS__CLIENT_ID", "sandbox-client")
    monkeypatch.setenv("SOURCES__LMS__CLIENT_SECRET", CLIENT_SECRET)
    return point_at


_load = partial(load_source, "users", "activities", "assignments", "enrolments",
                window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6))


def _bearer_only(sb) -> bool:
    return sb.stats.snapshot()["by_status"].get("401", 0) == 0


@pytest.mark.slow  # seconds of waiting on purpose (latency, token lifetimes): the full suite's
def test_one_token_serves_every_thread_and_every_slice(oauth_env, make_sandbox, instance, monkeypatch):
    sb = make_sandbox(SandboxOptions(latency_ms=5), profile="realistic")
    db = oauth_env(sb)
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")  # three slices, a source built for each
    monkeypatch.setenv("SOURCES__LMS__MAX_CONCURRENCY", "8")
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-05").success
    assert set(ids(db, "activities")) == set(expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 6)))
    stats = sb.stats.snapshot()
    assert stats["tokens_issued"] == 1 and stats["max_in_flight"] >= 2
    assert _bearer_only(sb)


@pytest.mark.slow  # seconds of waiting on purpose (latency, token lifetimes): the full suite's
def test_the_token_is_renewed_before_it_expires(oauth_env, make_sandbox):
    # expires_in 2 s and a load that lasts longer: a new token before the old one dies, no request refused
    sb = make_sandbox(SandboxOptions(token_ttl=2, latency_ms=40), profile="realistic")
    db = oauth_env(sb)
    _load(max_concurrency=1, per_page=100)
    assert sb.stats.snapshot()["tokens_issued"] >= 2
    assert _bearer_only(sb)
    assert row_count(db, "users") == sb.data.users


def test_a_401_to_a_token_renews_it_once_and_the_load_is_exact(oauth_env, make_sandbox):
    # the API stops honouring each token after 30 requests, long before its expires_in
    sb = make_sandbox(SandboxOptions(token_requests=30), profile="realistic")
    db = oauth_env(sb)
    stats = RequestStats()
    _load(request_stats=stats, max_concurrency=4)
    served = sb.stats.snapshot()
    api = sum(n for key, n in served["by_path"].items() if key.endswith(" 200") and not key.startswith("/oauth2/"))
    # renewed once per refused token, not once per refused request: each token serves 30 requests
    assert served["tokens_issued"] == -(-api // 30) >= 2
    # a request's throttle slot frees when its answer arrives, before the hook renews the token: each of the
    # 4 slots may carry one more request on the refused token meanwhile
    assert 1 <= served["by_status"]["401"] <= 2 * 4 * (served["tokens_issued"] - 1)
    assert set(ids(db, "activities")) == set(expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 6)))
    assert row_count(db, "users") == sb.data.users


def test_a_wrong_client_secret_fails_in_one_sentence_without_retries(oauth_env, make_sandbox, monkeypatch):
    sb = make_sandbox(profile="realistic")
    db = oauth_env(sb)
    monkeypatch.setenv("SOURCES__LMS__CLIENT_SECRET", CLIENT_SECRET + "-wrong")
    with pytest.raises(PipelineStepFailed) as err:
        _load()
    message = str(err.value)
    assert "refused the client credentials (HTTP 401 ('client authentication failed'))" in message
    assert "sources.lms.client_id and sources.lms.client_secret" in message and CLIENT_SECRET not in message
    assert sb.stats.snapshot()["by_path"] == {"/oauth2/token 401": 1}  # asked once, nothing else
    assert row_count(db, "users") == 0


def test_an_expired_token_that_cannot_be_renewed_fails_in_one_sentence(oauth_env, make_sandbox):
    # one token, honoured for 3 requests; then the client is refused (revoked): nothing may be committed
    sb = make_sandbox(SandboxOptions(token_requests=3, token_grants=1), profile="realistic")
    db = oauth_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load(max_concurrency=1)
    message = str(err.value)
    assert "refused to renew the expired access token (HTTP 401 ('client authentication failed'))" in message
    assert "the client may have been revoked" in message
    for table in ("users", "activities", "assignments", "enrolments"):
        assert row_count(db, table) == 0


def test_an_unknown_region_is_refused_before_any_request(oauth_env, make_sandbox, monkeypatch):
    sb = make_sandbox(profile="realistic")
    oauth_env(sb)
    monkeypatch.setenv("SOURCES__LMS__REGION", "eu-west")
    with pytest.raises(LmsConfigError) as err:
        lms_source()
    assert str(err.value).startswith("sources.lms.region is 'eu-west': set it to one of production, production-mea, "
                                     "staging, staging-mea")
    assert sb.stats.snapshot()["requests"] == 0


def test_regions_name_the_documented_hosts():
    assert token_url("production", "acme-01", None) == "https://public.api.learn.link/oauth2/token/acme-01"
    assert token_url("production-mea", "t", None) == "https://public.api.mea.learn.tech/oauth2/token/t"
    assert token_url("staging", "t", None) == "https://public.api.learnstaging.link/oauth2/token/t"
    assert token_url("staging-mea", "t", None) == "https://public.api.meastaging.learn.tech/oauth2/token/t"
    assert region_base_url("staging-mea") == "https://public.api.meastaging.learn.tech/rest"
    assert token_url("production", None, "http://127.0.0.1:1/oauth2/token/x") == "http://127.0.0.1:1/oauth2/token/x"
    with pytest.raises(LmsConfigError, match="sources.lms.tenant_id is not set"):
        token_url("production", None, None)


def test_oauth_needs_its_keys_named(oauth_env, make_sandbox, monkeypatch):
    sb = make_sandbox(profile="realistic")
    oauth_env(sb)
    monkeypatch.delenv("SOURCES__LMS__CLIENT_SECRET")
    with pytest.raises(LmsConfigError, match=r"^sources.lms.client_secret is not set: set SOURCES__LMS__CLIENT_SECRET"):
        lms_source()
    monkeypatch.setenv("SOURCES__LMS__AUTH", "token")
    with pytest.raises(LmsConfigError, match=r"^sources.lms.auth is 'token': set it to basic"):
        lms_source()


@pytest.mark.slow
def test_the_client_secret_and_the_token_are_nowhere(oauth_env, make_sandbox, tmp_path, dagster_home, monkeypatch):
    from lms_assets_tests.cli import finish, materialize_cli
    from lms_assets_tests.test_secrets import _scan

    sb = make_sandbox(SandboxOptions(token_requests=20, fault_rate=0.1, retry_after=(0,)), profile="realistic")
    db = oauth_env(sb)
    ok = finish(materialize_cli(dagster_home, "--select", "lms/users,lms/assignments,lms/enrolments"))
    monkeypatch.setenv("SOURCES__LMS__CLIENT_SECRET", CLIENT_SECRET + "-wrong")
    refused = finish(materialize_cli(dagster_home, "--select", "lms/users"))
    assert ok[0] == 0, ok[1][-3000:]
    assert refused[0] != 0 and "refused the client credentials" in refused[1]
    tokens = list(sb.server.tokens)
    assert len(tokens) >= 2  # renewed on a 401 at least once
    roots = [dagster_home, tmp_path / "dlt", db]
    for needle in [CLIENT_SECRET, *tokens]:
        assert needle not in ok[1] + refused[1]
        read, hits = _scan(roots, needle.encode())
        assert hits == [] and read >= 5


@pytest.mark.slow  # seconds of waiting on purpose (latency, token lifetimes): the full suite's
def test_a_renewal_under_concurrency_fetches_one_token(oauth_env, make_sandbox):
    # eight threads reach the renewal moment together: one of them renews, the others wait for it
    import time

    sb = make_sandbox(SandboxOptions(token_ttl=1, latency_ms=30), profile="realistic", activities=12_000)
    oauth_env(sb)
    started = time.monotonic()
    _load(max_concurrency=8, per_page=50)
    elapsed = time.monotonic() - started
    issued = sb.stats.snapshot()["tokens_issued"]
    assert elapsed > 1.5 and 2 <= issued <= elapsed / 0.75 + 1  # a token lives 0.75 s of its 1 s
    assert _bearer_only(sb)


def test_after_a_refused_token_no_more_401s_than_requests_in_flight(oauth_env, make_sandbox):
    """Issue #36: the token was put on a request when it was prepared, and the request then waited in the
    throttle; the members of 8 audiences were read by 8 x 8 threads. A token refused with 8 requests in
    flight cost 20 refusals, 12 of them after the new token existed."""
    import threading

    from lms_assets_tests.helpers import query
    from lms_assets_tests.test_assignments import expected_members

    sb = make_sandbox(SandboxOptions(token_requests=25, latency_ms=20), profile="realistic", audiences=8)
    db = oauth_env(sb)
    threads = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            threads.append(sum(1 for t in threading.enumerate() if t.name.startswith("lms-")))
            stop.wait(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        make_pipeline("lms_test").run(lms_source(max_concurrency=8, requests_per_second=15, per_page=10).with_resources(
            "audiences", "audience_members"))
    finally:
        stop.set()
        watcher.join()
    served = sb.stats.snapshot()
    refused_tokens = served["tokens_issued"] - 1
    assert refused_tokens >= 2
    assert served["by_status"]["401"] <= 8 * refused_tokens, served
    assert max(threads) <= 8  # the reading threads: the parents' (each reading its pages alone), not 8 x 8
    assert {tuple(r) for r in query(db, "SELECT audience_id, user_id FROM lms.audience_members")} == expected_members(sb.data)
