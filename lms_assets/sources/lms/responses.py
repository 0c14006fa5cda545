"""An API answer checked, and what it says when it refuses: the status, the envelope or bare array, the message."""

from __future__ import annotations

from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

import orjson
from requests import Response

from lms_assets.sources.lms.errors import CREDENTIALS_HINT, LmsAuthError, LmsRefusedError, LmsResponseError
from lms_assets.sources.lms.settings import (
    DATA_SELECTOR,
    DOCUMENTED_TIMESTAMP_FORMAT,
    PAGE_PARAM,
    WINDOW_FROM_PARAM,
    WINDOW_TO_PARAM,
)

RETRYABLE = (429, 500, 502, 503, 504)


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
