"""The LMS dlt source: `content`, `users` and `activities`, merged on `id`.

Knows nothing of Dagster; runs from plain Python, the tests and the assets alike.
Config lives in section `sources.lms` (see README for every key and env var).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional, Sequence

import dlt
from dlt.common import jsonpath
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from dlt.sources.rest_api import rest_api_resources

from lms_assets.sources.lms import settings
from lms_assets.sources.lms.helpers import (
    LmsConfigError,
    LmsResponseError,
    RequestStats,
    as_utc,
    ceil_second,
    check_response,
    describe_request,
    floor_second,
    make_session,
    parse_instant,
    parse_start_date,
)
from lms_assets.sources.lms.arrow import activities_table
from lms_assets.sources.lms.progress import Progress, ProgressReporter

# Compiled once: dlt would otherwise build a jsonpath parser for every page.
RESULTS = jsonpath.compile_path(settings.DATA_SELECTOR)


def _paginator() -> PageNumberPaginator:
    # Totals are not guaranteed in the body, so the listing ends on the first empty page:
    # at most one empty request per listing, and no record lost however the last page falls.
    return PageNumberPaginator(base_page=1, page_param=settings.PAGE_PARAM, total_path=None,
                               stop_after_empty_page=True)


# A column that changes type fails the load with a clear error instead of growing a variant
# column (`email__v_json`) nobody notices; new columns still arrive.
@dlt.source(name="lms", section="lms", max_table_nesting=0, schema_contract={"data_type": "freeze"})
def lms_source(
    base_url: str = dlt.config.value,
    username: str = dlt.secrets.value,
    password: str = dlt.secrets.value,
    start_date: str = dlt.config.value,
    window_start: Optional[datetime] = None,
    window_end: Optional[datetime] = None,
    per_page: int = settings.MAX_PER_PAGE,
    max_attempts: int = 12,
    backoff_factor: float = 1.0,
    max_retry_delay: float = 60.0,
    request_timeout: float = 60.0,
    request_stats: Optional[RequestStats] = None,
    progress: Optional[Callable[[Progress], None]] = None,
    progress_every_s: float = 10.0,
) -> Sequence[Any]:
    """All three LMS resources.

    Activities are loaded for the half-open window `[window_start, window_end)`; without a
    window they run from `start_date` and dlt's incremental state carries the cursor forward.
    """
    if not base_url or not str(base_url).startswith(("http://", "https://")):
        raise LmsConfigError(f"sources.lms.base_url is {base_url!r}: set it to the API's http(s) URL (env SOURCES__LMS__BASE_URL).")
    if not 1 <= int(per_page) <= settings.MAX_PER_PAGE:
        raise LmsConfigError(f"sources.lms.per_page is {per_page}: it must be between 1 and {settings.MAX_PER_PAGE}.")
    history_start = parse_start_date(start_date)
    start = as_utc(window_start) if window_start else history_start
    end = as_utc(window_end) if window_end else None
    if end is not None and end <= start:
        raise LmsConfigError(f"The activity window [{start.isoformat()}, {end.isoformat()}) is empty: its end must be after its start.")

    session = make_session(max_attempts, backoff_factor, max_retry_delay, request_timeout)
    # Hooks run on every attempt, before dlt's retry decides: count first, then check.
    hooks = ([request_stats] if request_stats is not None else []) + [check_response]
    auth = HttpBasicAuth(username, password)
    dimensions = rest_api_resources(
        {
            "client": {"base_url": base_url, "auth": auth, "session": session, "paginator": _paginator()},
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "max_table_nesting": 0,
                "processing_steps": [{"map": _live}],
                "endpoint": {
                    "data_selector": settings.DATA_SELECTOR,
                    "params": {settings.PER_PAGE_PARAM: per_page},
                    "response_actions": hooks,
                },
            },
            "resources": [
                {"name": "content", "endpoint": {"path": settings.CONTENTS_PATH}, "columns": settings.CONTENT_COLUMNS},
                {"name": "users", "endpoint": {"path": settings.USERS_PATH}, "columns": settings.USERS_COLUMNS},
            ],
        }
    )
    client = RESTClient(base_url=base_url, auth=auth, session=session, paginator=_paginator(),
                        data_selector=settings.DATA_SELECTOR)
    reporter = ProgressReporter(progress, start, end or datetime.now(timezone.utc), progress_every_s)
    return [*dimensions, _activities(client, start, end, per_page, hooks, reporter)]


def _activities(client: RESTClient, start: datetime, end: Optional[datetime], per_page: int, hooks: list,
                reporter: ProgressReporter) -> Any:
    # A hand-built resource rather than a rest_api entry: the cursor must be compared as an
    # instant (the API's `date` strings mix whole and fractional seconds, which sort wrongly as
    # text), and the API's inclusive, whole-second bounds need widening before dlt's
    # incremental trims the rows back to exactly [start, end). Pages are batched into Arrow
    # tables: dlt then writes them as files without its row-by-row normalize, the hot path of
    # a backfill (see bench/).
    @dlt.resource(name="activities", primary_key="id", write_disposition="merge",
                  columns=settings.ACTIVITIES_COLUMNS, max_table_nesting=0)
    def activities(
        cursor: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "date", initial_value=start, end_value=end, range_start="closed", range_end="open",
            on_cursor_value_missing="raise",
        ),
    ) -> Iterator[Any]:
        upper = cursor.end_value or datetime.now(timezone.utc)
        params = {
            settings.PER_PAGE_PARAM: per_page,
            settings.WINDOW_FROM_PARAM: floor_second(cursor.start_value or start),
            settings.WINDOW_TO_PARAM: ceil_second(upper),
        }
        page_hooks = {"response": [*hooks, _raise_for_status]}
        batch: list[dict] = []
        reporter.begin()
        pages = client.paginate(settings.ACTIVITIES_PATH, params=params, paginator=_paginator(), hooks=page_hooks,
                                data_selector=RESULTS)
        for page in pages:
            try:  # the fast path: every date is an ISO-8601 string
                dates = [datetime.fromisoformat(r["date"]) for r in page]
            except (KeyError, TypeError, ValueError):
                where = describe_request(page.response)
                dates = [parse_instant(r.get("date"), r.get("id"), where) for r in page]
            for record, instant in zip(page, dates):
                record["date"] = instant
            reporter.page(len(dates), dates[-1] if dates else None)
            batch.extend(page)
            if len(batch) >= settings.ARROW_BATCH_ROWS:
                yield activities_table(batch)
                batch = []
        if batch:
            yield activities_table(batch)
        reporter.finish()

    return activities


def _live(record: dict) -> dict:
    record["is_deleted"] = False
    record["deleted_at"] = None
    return record


def _raise_for_status(response, *args: Any, **kwargs: Any) -> None:
    response.raise_for_status()


__all__ = ["lms_source", "LmsResponseError", "RequestStats"]
