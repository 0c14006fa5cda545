"""HTTP session, response checks and timestamp handling shared by the LMS resources."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collections import Counter
from dataclasses import dataclass, field

import orjson
from dlt.sources.helpers.requests import Client
from requests import Response

from lms_assets.sources.lms.settings import DATA_SELECTOR, PAGE_PARAM, TIMESTAMP_FORMAT

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


@dataclass
class RequestStats:
    """What a load asked of the API, for the run's metadata: pages by endpoint and retried answers."""

    pages: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)

    def __call__(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        path = urlsplit(response.url).path
        if response.status_code == 200:
            self.pages[path] += 1
        elif response.status_code in RETRYABLE:
            self.retried[str(response.status_code)] += 1
        return response

    @property
    def total_pages(self) -> int:
        return sum(self.pages.values())

    @property
    def total_retries(self) -> int:
        return sum(self.retried.values())


def make_session(max_attempts: int, backoff_factor: float, max_retry_delay: float, timeout: float):
    """dlt's retrying session: 429 and 5xx retried with exponential backoff, `Retry-After` honoured.

    dlt ignores a `Retry-After: 0` and falls back to the exponential wait, so a server that
    says "retry now" cannot make us burn every attempt in an instant.
    """
    return Client(
        request_timeout=timeout,
        request_max_attempts=max_attempts,
        request_backoff_factor=backoff_factor,
        request_max_retry_delay=max_retry_delay,
        respect_retry_after_header=True,
        raise_for_status=False,  # the response hooks decide, after dlt's retries
    ).session


def describe_request(response: Response) -> str:
    url = urlsplit(response.url)
    page = parse_qs(url.query).get(PAGE_PARAM, ["1"])[-1]
    return f"GET {url.scheme}://{url.netloc}{url.path} (page {page})"


def check_response(response: Response, *args: Any, **kwargs: Any) -> Response:
    """Fail at once on refused credentials and on a 200 that is not a page of records.

    Runs as a requests hook, so it sees every attempt: retryable statuses pass through to
    dlt's retry. The parsed body is kept on the response so dlt does not parse it twice.
    """
    status = response.status_code
    if status in (401, 403):
        raise LmsAuthError(f"The LMS API refused the credentials (HTTP {status}) for {describe_request(response)}: {CREDENTIALS_HINT}.")
    if status != 200:
        return response
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        snippet = response.content[:80].decode("utf-8", "replace")
        raise LmsResponseError(
            f"{describe_request(response)} answered 200 with a body that is not JSON ({snippet!r}...); "
            "nothing was loaded for this resource. Check sources.lms.base_url points at the LMS API."
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get(DATA_SELECTOR), list):
        raise LmsResponseError(
            f"{describe_request(response)} answered 200 without a '{DATA_SELECTOR}' list; "
            "nothing was loaded for this resource. Check sources.lms.base_url points at the LMS API."
        )
    for record in body[DATA_SELECTOR]:
        if not isinstance(record, dict) or record.get("id") in (None, ""):
            raise LmsResponseError(
                f"{describe_request(response)} returned a record without an 'id' ({str(record)[:120]}); "
                "nothing was loaded for this resource. Report it to the LMS API's owner."
            )
    # requests would parse the body again for dlt's data selector; serve the parsed one.
    response.json = lambda **_: body  # type: ignore[method-assign]
    return response


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


def floor_second(value: datetime) -> str:
    return as_utc(value).replace(microsecond=0).strftime(TIMESTAMP_FORMAT)


def ceil_second(value: datetime) -> str:
    value = as_utc(value)
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value.strftime(TIMESTAMP_FORMAT)


def parse_instant(value: Any, record_id: Any, where: str) -> datetime:
    """An activity's `date` as an aware UTC datetime, fractional seconds kept."""
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    problem = "has no 'date'" if value in (None, "") else f"has a 'date' that is not a timestamp ({value!r})"
    raise LmsResponseError(
        f"Activity {record_id!r} from {where} {problem}; nothing was loaded for this window. "
        "Report it to the LMS API's owner."
    )

