"""The HTTP session every request of a run goes through: dlt's retrying client, proxies read once per host."""

from __future__ import annotations

from urllib.parse import urlsplit

from dlt.sources.helpers.requests import Client


def make_session(max_attempts: int, backoff_factor: float, max_retry_delay: float, timeout: float):
    """dlt's retrying session: 429 and 5xx retried with exponential backoff, `Retry-After` honoured.

    dlt ignores a `Retry-After: 0` and falls back to the exponential wait, so a server that
    says "retry now" cannot make us burn every attempt in an instant.
    """
    session = Client(
        request_timeout=timeout,
        request_max_attempts=max_attempts,
        request_backoff_factor=backoff_factor,
        request_max_retry_delay=max_retry_delay,
        respect_retry_after_header=True,
        raise_for_status=False,  # the response hooks decide, after dlt's retries
    ).session
    environment_once_per_host(session)
    return session


def environment_once_per_host(session) -> None:
    """Read the proxy and CA-bundle variables once per host instead of on every request.

    requests' `merge_environment_settings` (which dlt's REST client calls for each request) walks the
    whole environment twice for `*_proxy` variables: 0.6 ms of the 1.7-2.5 ms a page costs this
    process on localhost, all of it holding the GIL that the page threads and the record
    shaping share (bench/, issue #21). The variables do not change while a run reads, and
    `no_proxy` is decided per host, so the answer is kept per scheme and host; a request that
    brings its own proxies, stream, verify or cert settings is merged as before.
    """
    merge = session.merge_environment_settings
    known: dict[tuple[str, str], dict] = {}

    def merged(url, proxies, stream, verify, cert):
        if proxies or stream is not None or verify is not None or cert is not None:
            return merge(url, proxies, stream, verify, cert)
        host = urlsplit(url)[:2]
        settings = known.get(host)
        if settings is None:  # (two threads may both compute it first: the same answer)
            settings = known[host] = merge(url, {}, None, None, None)
        return {name: dict(value) if isinstance(value, dict) else value for name, value in settings.items()}

    session.merge_environment_settings = merged
