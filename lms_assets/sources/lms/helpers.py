"""HTTP session, response checks and timestamp handling shared by the LMS resources."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

import orjson
from dlt.sources.helpers.requests import Client
from requests import Response

from lms_assets.sources.lms.settings import (
    BOUND_MARGIN,
    DATA_SELECTOR,
    DOCUMENTED_TIMESTAMP_FORMAT,
    PAGE_PARAM,
    WINDOW_FROM_PARAM,
    WINDOW_TO_PARAM,
)

RETRYABLE = (429, 500, 502, 503, 504)
CREDENTIALS_HINT = (
    "check sources.lms.username and sources.lms.password "
    "(env SOURCES__LMS__USERNAME / SOURCES__LMS__PASSWORD, or .dlt/secrets.toml)"
)


class LmsError(Exception):
    """A failure the operator can act on; the message says what is wrong and what to do."""


class LmsConfigError(LmsError, ValueError):
    pass


class LmsAuthError(LmsError):
    pass


class LmsResponseError(LmsError):
    pass


class LmsRefusedError(LmsError):
    """The API refused a request (a 4xx other than 401/403/429): retrying cannot help."""


@dataclass
class RequestStats:
    """What a load asked of the API, for the run's metadata: pages by endpoint, retried answers, re-read listings."""

    pages: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)
    rereads: Counter = field(default_factory=Counter)
    announced: Counter = field(default_factory=Counter)  # the API's totalResults of each whole read, by listing name
    unannounced: set = field(default_factory=set)  # listings read at least once without a total
    requests: int = 0
    throttle: Any = None  # the run's Throttle, shared by every source built with these stats (see lms_source)
    auth: Any = None  # the run's credentials: one OAuth token for every slice and thread
    # ids a dimension listing returned only in a read abandoned because the listing moved: gone upstream
    vanished: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        path = urlsplit(response.url).path
        with self.lock:  # pages arrive on several threads
            self.requests += 1
            if response.status_code == 200:
                self.pages[path] += 1
            elif response.status_code in RETRYABLE:
                self.retried[str(response.status_code)] += 1
        return response

    @property
    def total_pages(self) -> int:
        return sum(self.pages.values())

    def api_total(self, name: str) -> int | None:
        """What the API announced for the whole reads of listing `name` so far; None when a read had no total."""
        return None if name in self.unannounced else int(self.announced[name])

    @property
    def total_retries(self) -> int:
        return sum(self.retried.values())

    @property
    def total_rereads(self) -> int:
        return sum(self.rereads.values())


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


def for_section(message: str, section: str) -> str:
    """`message` as a tenant of config section `section` must read it.

    The source's sentences name the first tenant's keys (`sources.lms.per_page`, `SOURCES__LMS__PER_PAGE`):
    the keys are the same under every section, so one rewrite at the edge (a run's failure, the
    connection check's output) names the tenant's own instead of threading a section through each.
    """
    if section == "lms":
        return message
    return message.replace("sources.lms.", f"sources.{section}.").replace("SOURCES__LMS__", f"SOURCES__{section.upper()}__")


def describe_request(response: Response) -> str:
    url = urlsplit(response.url)
    page = parse_qs(url.query).get(PAGE_PARAM, ["1"])[-1]
    return f"GET {url.scheme}://{url.netloc}{url.path} (page {page})"


def api_message(response: Response) -> str | None:
    """The API's own words from a JSON error body (`message`, else `error`), kept short."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    text = body.get("message") or body.get("error")
    return " ".join(str(text).split())[:200] if text else None


def quoted_message(response: Response) -> str:
    message = api_message(response)
    return f" ({message!r})" if message else ""


def _refused(response: Response) -> LmsRefusedError:
    status = response.status_code
    sent = parse_qs(urlsplit(response.url).query)
    bounds = [f"{name}={sent[name][-1]!r}" for name in (WINDOW_FROM_PARAM, WINDOW_TO_PARAM) if name in sent]
    if status == 400 and bounds:
        fix = (f"it was sent {' and '.join(bounds)}: set sources.lms.timestamp_format (env "
               f"SOURCES__LMS__TIMESTAMP_FORMAT) to the format the API expects, such as {DOCUMENTED_TIMESTAMP_FORMAT!r}")
    elif status == 404:
        fix = ("check that sources.lms.base_url (env SOURCES__LMS__BASE_URL) is the API's root, "
               "where its v1/ paths start (for Thrive Learning https://<host>/rest)")
    else:
        fix = "check sources.lms.base_url and sources.lms.per_page (at most 1000); retrying will not help"
    return LmsRefusedError(
        f"The LMS API refused {describe_request(response)} with HTTP {status}{quoted_message(response)}: {fix}.")


def check_response(response: Response, *args: Any, decode: Optional[Callable[[bytes], Any]] = None,
                   **kwargs: Any) -> Response:
    """Fail at once on refused credentials, a refused request, and a 200 that is not JSON.

    Runs as a requests hook, so it sees every attempt: retryable statuses pass through to
    dlt's retry. The parsed body is kept on the response so dlt does not parse it twice; whether it
    is a page of records is the listing reader's to judge (it knows the listing's shape and key).
    `decode` parses the body in orjson's place (raising orjson's error for what is not JSON).
    """
    status = response.status_code
    if status in (401, 403):
        raise LmsAuthError(f"The LMS API refused the credentials (HTTP {status}{quoted_message(response)}) "
                           f"for {describe_request(response)}: {CREDENTIALS_HINT}.")
    if 400 <= status < 500 and status not in RETRYABLE:
        raise _refused(response)
    if status != 200:
        return response
    try:
        body = (decode or orjson.loads)(response.content)
    except orjson.JSONDecodeError:
        snippet = response.content[:80].decode("utf-8", "replace")
        raise LmsResponseError(
            f"{describe_request(response)} answered 200 with a body that is not JSON ({snippet!r}...); "
            "nothing was loaded for this resource. Check sources.lms.base_url points at the LMS API."
        ) from None
    # requests would parse the body again for dlt's data selector; serve the parsed one.
    response.json = lambda **_: body  # type: ignore[method-assign]
    return response


ENVELOPE, ARRAY = "an envelope", "a bare JSON array"


def records_in(body: Any) -> tuple[str, list] | None:
    """(shape, records) of a list answer: `{"results": [...], ...}` or a bare array; None for anything else."""
    if isinstance(body, list):
        return ARRAY, body
    if isinstance(body, dict) and isinstance(body.get(DATA_SELECTOR), list):
        return ENVELOPE, body[DATA_SELECTOR]
    return None


def parse_start_date(value: Any) -> datetime:
    """`sources.lms.start_date` as midnight UTC; a clear error when malformed or in the future."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise LmsConfigError(
                f"sources.lms.start_date is {value!r}, not a date: set it as YYYY-MM-DD "
                "(env SOURCES__LMS__START_DATE), the first day of activity history."
            ) from None
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    if start > datetime.now(timezone.utc):
        raise LmsConfigError(
            f"sources.lms.start_date is {day.isoformat()}, in the future: set it to the first day "
            "of activity history (YYYY-MM-DD, env SOURCES__LMS__START_DATE)."
        )
    return start


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def lower_bound(start: datetime, fmt: str) -> str:
    """`timestampFrom` for a window starting at `start`: whole seconds, one second early.

    The API's bounds are whole seconds, and whether "after" includes the second itself is not
    documented; asking from a second before covers `start` under either reading.
    """
    return (as_utc(start).replace(microsecond=0) - BOUND_MARGIN).strftime(fmt)


def upper_bound(end: datetime, fmt: str) -> str:
    """`timestampTo` for a window ending (exclusively) at `end`: rounded up, one second late."""
    end = as_utc(end)
    if end.microsecond:
        end = end.replace(microsecond=0) + timedelta(seconds=1)
    return (end + BOUND_MARGIN).strftime(fmt)


def parse_instant(value: Any, record_id: Any, where: str, field: str = "date") -> datetime:
    """A record's timestamp (`date`, `entryDate`, ...) as an aware UTC datetime, fractional seconds kept;
    ISO 8601 or the API's documented `YYYY-MM-DD hh:mm:ss` (UTC)."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    problem = f"has no '{field}'" if value in (None, "") else f"has a '{field}' that is not a timestamp ({value!r})"
    kind = "Activity" if field == "date" else "Record"
    raise LmsResponseError(
        f"{kind} {record_id!r} from {where} {problem}; nothing was loaded for this window. "
        "Report it to the LMS API's owner."
    )
