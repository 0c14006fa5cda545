"""Reading one listing (an endpoint, or an activity window) page by page, and knowing it is whole.

dlt's `PageNumberPaginator` pages; what it cannot tell is whether the listing held still while
it was paged. A record created mid-listing pushes another onto the next page (read twice, and
the new one missed); one deleted pulls a record back (never read). The API's `pagination`
totals and the ids at page boundaries show both, so a listing that moved is read again, a
bounded number of times, and then fails with the numbers. Rows are merged on `id`, so what a
discarded read already yielded is overwritten, never duplicated.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Optional

from dlt.common import jsonpath
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.client import PageData
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator, SinglePagePaginator
from requests import Response

from lms_assets.sources.lms import settings
from lms_assets.sources.lms.errors import LmsResponseError
from lms_assets.sources.lms.responses import check_response, describe_request, records_in
from lms_assets.sources.lms.settings import Listing
from lms_assets.sources.lms.stats import RequestStats

log = logging.getLogger(__name__)
# The whole body: a listing answers with an envelope or a bare array, and the reader tells which.
WHOLE_BODY = jsonpath.compile_path("$")  # compiled once, not per page


def pagination(response: Response) -> dict:
    """The answer's `pagination` object, or `{}` when the API sends no totals."""
    body = response.json()
    value = body.get(settings.PAGINATION_KEY) if isinstance(body, dict) else None
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> Optional[int]:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


class TotalPagesPaginator(PageNumberPaginator):
    """Stops on the last page when the answer carries `pagination.totalPages`, else on the first empty page.

    Without totals an empty request per listing is the price of never losing a last page.
    """

    def __init__(self, first_page: int = 1) -> None:
        super().__init__(base_page=1, page=first_page, page_param=settings.PAGE_PARAM, total_path=None,
                         stop_after_empty_page=True)

    def update_state(self, response: Response, data: Optional[list[Any]] = None) -> None:
        found = records_in(response.json())
        super().update_state(response, found[1] if found else data)
        total_pages = _int(pagination(response).get("totalPages"))
        if total_pages is not None and self.current_value > total_pages:
            self._has_next_page = False


def page_records(page: PageData, listing: Listing, shape: Optional[str]) -> tuple[str, list[dict], list]:
    """The records of one answer, checked: a list answer of the listing's first shape, each record with its key.

    Also returns each record's key (a tuple for a compound key), which the consistency check compares
    across pages: computed once here, in one pass per key field rather than a generator per record.
    """
    response = page.response
    found = records_in(response.json())
    if found is None:
        raise LmsResponseError(
            f"{describe_request(response)} answered 200 without a '{settings.DATA_SELECTOR}' list or a JSON array of "
            "records; nothing was loaded for this resource. Check sources.lms.base_url points at the LMS API.")
    if shape is not None and found[0] != shape:
        raise LmsResponseError(
            f"{describe_request(response)} answered with {found[0]} where the listing's first page was {shape}: the "
            "API changed the shape of its answers while the listing was read; nothing was loaded for this resource. "
            "Re-run later; if it persists, report it to the LMS API's owner.")
    records = found[1]
    try:  # only JSON objects have .get
        columns = [[record.get(k) for record in records] for k in listing.key]
    except AttributeError:
        columns = None
    if columns is None or any(None in values or "" in values for values in columns):
        _refuse_keyless(response, listing, records)
    return found[0], records, columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))


def _refuse_keyless(response: Response, listing: Listing, records: list) -> None:
    for record in records:
        if not hasattr(record, "get") or any(record.get(k) in (None, "") for k in listing.key):
            name = " and ".join(repr(k) for k in listing.key)
            article = "an " if len(listing.key) == 1 and name[1] in "aeiou" else "a " if len(listing.key) == 1 else ""
            raise LmsResponseError(
                f"{describe_request(response)} returned a record without {article}{name} ({str(record)[:120]}); "
                "nothing was loaded for this resource. Report it to the LMS API's owner.")


@dataclass
class _Consistency:
    """What one read of a listing has seen: the first page's total, rows, the previous page's ids."""

    first_total: Optional[int] = None
    rows: int = 0
    page: int = 0
    previous_ids: set = field(default_factory=set)

    def see(self, response: Response, keys: list) -> Optional[str]:
        """`keys`: the page's record keys, in order (page_records)."""
        self.page += 1
        total = _int(pagination(response).get("totalResults"))
        if self.page == 1:
            self.first_total = total
        elif total is not None and self.first_total is not None and total != self.first_total:
            return f"totalResults changed from {self.first_total} to {total} at page {self.page}"
        ids = set(keys)
        repeated = ids & self.previous_ids
        if repeated or len(ids) < len(keys):
            some = sorted(map(str, repeated))[:1] or ["(within the page)"]
            return f"id {some[0]} arrived twice (pages {self.page - 1} and {self.page})"
        self.previous_ids = ids
        self.rows += len(keys)
        return None

    def finish(self) -> Optional[str]:
        if self.first_total is not None and self.rows != self.first_total:
            return f"{self.rows} records arrived where the first page announced totalResults {self.first_total}"
        return None


class Page(list):
    """The records of one answer, with the answer they came in (for error messages) and the read of the
    listing it belongs to (1, or more when the listing moved and was read again)."""

    def __init__(self, records: list[dict], response: Response, attempt: int = 1):
        super().__init__(records)
        self.response = response
        self.attempt = attempt


def utc_days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """`[start, end)` cut at UTC midnights."""
    out, lo = [], start
    while lo < end:
        midnight = datetime(lo.year, lo.month, lo.day, tzinfo=timezone.utc) + timedelta(days=1)
        out.append((lo, min(midnight, end)))
        lo = midnight
    return out


def utc_parts(start: datetime, end: datetime, parts: int) -> list[tuple[datetime, datetime]]:
    """`[start, end)` cut at whole UTC hours into at most `parts` runs of about as many hours each."""
    cuts, lo = [start], start
    while lo < end:
        lo = min(datetime(lo.year, lo.month, lo.day, lo.hour, tzinfo=timezone.utc) + timedelta(hours=1), end)
        cuts.append(lo)
    hours = len(cuts) - 1
    step = -(-hours // max(1, parts))  # ceil: no part longer than its share
    kept = cuts[::step] if cuts[-1] in cuts[::step] else cuts[::step] + [cuts[-1]]
    return list(zip(kept, kept[1:], strict=False))


_DONE = object()
_SPLIT = object()


class ListingReader:
    """Pages through listings of one API with one client, checking each read is whole.

    When the first page names `totalPages`, pages 2..N are fetched `max_concurrency` at a time
    (the throttle on the client's session keeps the whole run within its limits) and handed on in
    page order, so at most that many pages are held and the checks below see them in sequence.
    """

    def __init__(self, client: RESTClient, hooks: list, per_page: int, max_reads: int,
                 stats: Optional[RequestStats] = None, max_concurrency: int = 1,
                 decoders: Optional[dict[str, Callable[[bytes], Any]]] = None):
        """`decoders`: a body parser for a listing's pages (by listing name) in place of orjson (activity_records.py)."""
        self.client, self.hooks, self.per_page, self.max_reads, self.stats = client, hooks, per_page, max_reads, stats
        self.max_concurrency = max(1, int(max_concurrency))
        self.decoders = decoders or {}
        self._hooks_of = {name: [functools.partial(check_response, decode=decode) if h is check_response else h
                                 for h in hooks] for name, decode in self.decoders.items()}

    def _page(self, path: str, query: dict, page: int, hooks: Optional[list] = None) -> PageData:
        pages = self.client.paginate(path, params={**query, settings.PAGE_PARAM: page}, paginator=SinglePagePaginator(),
                                     hooks={"response": hooks or self.hooks}, data_selector=WHOLE_BODY)
        return next(iter(pages))

    def _pages(self, path: str, query: dict, hooks: Optional[list] = None, concurrency: Optional[int] = None
               ) -> Iterator[PageData]:
        hooks = hooks or self.hooks
        concurrency = concurrency or self.max_concurrency
        first = self._page(path, query, 1, hooks)
        yield first
        total_pages = _int(pagination(first.response).get("totalPages"))
        if total_pages is None:  # no totals: on to the first empty page, one page after another
            found = records_in(first.response.json())
            if found and found[1]:
                yield from self.client.paginate(path, params=query, paginator=TotalPagesPaginator(first_page=2),
                                                hooks={"response": hooks}, data_selector=WHOLE_BODY)
            return
        if concurrency == 1 or total_pages <= 2:
            for page in range(2, total_pages + 1):
                yield self._page(path, query, page, hooks)
            return
        pending: deque[Future] = deque()
        with ThreadPoolExecutor(max_workers=min(concurrency, total_pages - 1), thread_name_prefix="lms-page") as pool:
            try:
                page = 2
                while page <= total_pages or pending:
                    while page <= total_pages and len(pending) < concurrency:
                        pending.append(pool.submit(self._page, path, query, page, hooks))
                        page += 1
                    yield pending.popleft().result()
            finally:  # a read abandoned (moved listing, failure): nothing more is asked
                for future in pending:
                    future.cancel()

    def read_window(self, listing: Listing, start: datetime, end: datetime,
                    params_of: Callable[[datetime, datetime], dict], what_of: Callable[[datetime, datetime], str],
                    ) -> Iterator[tuple[datetime, datetime, Page]]:
        """(sub-window start, end, page) of a time-windowed listing.

        With totals the window is one listing whose pages are read concurrently (above). Without them
        the page count is unknown, so a window whose first page is full is read instead in sub-windows,
        `max_concurrency` at a time, each a listing of its own ending on one empty page (the first page
        of the whole window is discarded: one request), its pages handed on as they arrive. The
        sub-windows are its UTC days. A window of fewer days than `max_concurrency` reads a
        day whose own first page is full (discarded too) as parts of whole hours, enough to keep
        `max_concurrency` in flight, and a window within one day its parts at once: otherwise the daily
        run of a busy tenant would be read one page after another. The caller keeps each sub-window's rows inside it: the
        bounds are asked a second wider.
        """
        whole = self.read(listing, params_of(start, end), what_of(start, end))
        first = next(whole, None)
        if first is None:
            return
        days = utc_days(start, end)
        windows = days if len(days) > 1 else utc_parts(start, end, self.max_concurrency)
        per_page = min(self.per_page, listing.max_per_page)
        known = _int(pagination(first.response).get("totalPages")) is not None
        if known or len(first) < per_page or len(windows) < 2 or self.max_concurrency == 1:
            yield start, end, first
            yield from ((start, end, page) for page in whole)
            return
        whole.close()
        # fewer days than requests to keep in flight: a heavy day is read as parts that fill them (a range run's
        # 7-day slice read as 2 days ahead and 5 after, issue #21: 5 whole days kept 5 of 8 in flight)
        parts = -(-self.max_concurrency // len(days)) if 1 < len(days) < self.max_concurrency else 1
        yield from self._sub_windows(listing, windows, params_of, what_of, parts)

    def _sub_windows(self, listing: Listing, windows: list[tuple[datetime, datetime]],
                     params_of: Callable[[datetime, datetime], dict], what_of: Callable[[datetime, datetime], str],
                     parts: int = 1) -> Iterator[tuple[datetime, datetime, Page]]:
        yield from _SubWindowRead(self, listing, windows, params_of, what_of, parts).pages_as_they_come()

    def read_each(self, listing: Listing, parents: list[str], params: Optional[dict] = None
                  ) -> Iterator[tuple[str, list[dict]]]:
        """Every record of a per-parent `listing`, parent by parent in the order given; up to
        `max_concurrency` parents read at once, and the threads shared out between parents and their
        pages: 8 parents each read by 8 page threads made 64 threads for 8 requests in flight."""
        outer = max(1, min(self.max_concurrency, len(parents)))
        inner = max(1, self.max_concurrency // outer)

        def whole(parent: str) -> list[dict]:
            # a listing re-read because it moved yields some records twice: the last read of each wins
            records = {tuple(r.get(k) for k in listing.key): r
                       for page in self.read(listing, params, parent=parent, concurrency=inner) for r in page}
            return list(records.values())

        if outer == 1:
            for parent in parents:
                yield parent, whole(parent)
            return
        with ThreadPoolExecutor(max_workers=outer, thread_name_prefix="lms-parent") as pool:
            futures = [(parent, pool.submit(whole, parent)) for parent in parents]
            try:
                for parent, future in futures:
                    yield parent, future.result()
            finally:  # a failure: nothing more is asked
                for _, future in futures:
                    future.cancel()

    def _announce(self, name: str, total: Optional[int]) -> None:
        if self.stats is None:
            return
        with self.stats.lock:
            if total is None:
                self.stats.unannounced.add(name)
            else:
                self.stats.announced[name] += total

    def read(self, listing: Listing, params: Optional[dict] = None, what: Optional[str] = None,
             parent: Optional[str] = None, concurrency: Optional[int] = None) -> Iterator["Page"]:
        """Yield the pages of `listing` (below `parent`, for a per-parent listing); re-read when the listing
        moved, fail after `max_reads`."""
        path = listing.path.format(id=parent) if parent is not None else listing.path
        what = what or f"GET {path}"
        query = {settings.PER_PAGE_PARAM: min(self.per_page, listing.max_per_page), **(params or {})}
        for attempt in range(1, self.max_reads + 1):
            check = _Consistency()
            problem, shape = None, None
            for page in self._pages(path, query, self._hooks_of.get(listing.name), concurrency):
                shape, records, keys = page_records(page, listing, shape)
                problem = check.see(page.response, keys)
                if problem:
                    break
                yield Page(records, page.response, attempt)
            problem = problem or check.finish()
            if problem is None:
                self._announce(listing.name, check.first_total)
                return
            if self.stats is not None:
                self.stats.rereads["/" + path.lstrip("/")] += 1  # keyed like `pages`: the URL's path
            if attempt < self.max_reads:
                log.warning("%s changed while it was read (%s); reading it again (%d of %d)",
                            what, problem, attempt + 1, self.max_reads)
        raise LmsResponseError(
            f"{what}: {problem}, on each of {self.max_reads} reads; nothing was loaded for this resource. "
            "The listing kept changing while it was paged, or the API's totals are wrong: re-run later, "
            "or allow more reads with sources.lms.max_listing_reads (env SOURCES__LMS__MAX_LISTING_READS)."
        )


class _SubWindowRead:
    """One read of a window's sub-windows, and what its threads share.

    One thread a sub-window, all handing their pages to one queue of 2 x max_concurrency pages, taken as
    they come: at most `max_concurrency` sub-windows are read at once and about 3 x max_concurrency pages
    are held, whatever the window's size. (Taken in order, a day's thread would wait on its full queue
    until every day before it was done: measured, 41 requests/s at 8 in flight and 40 ms, as one at a time.)
    With `parts` > 1, a day whose first page is full hands back that many parts of it instead of its pages.
    """

    def __init__(self, reader: ListingReader, listing: Listing, windows: list[tuple[datetime, datetime]],
                 params_of: Callable[[datetime, datetime], dict], what_of: Callable[[datetime, datetime], str],
                 parts: int) -> None:
        self.one_at_a_time = ListingReader(reader.client, reader.hooks, reader.per_page, reader.max_reads,
                                           reader.stats, 1, reader.decoders)
        self.listing, self.params_of, self.what_of, self.parts = listing, params_of, what_of, parts
        self.per_page = min(reader.per_page, listing.max_per_page)
        self.max_concurrency = reader.max_concurrency
        self.windows = list(windows)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.pages: queue.Queue = queue.Queue(maxsize=2 * reader.max_concurrency)
        self.futures: list[Future] = []
        self.pool: Optional[ThreadPoolExecutor] = None

    def put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read_window(self, i: int, splittable: bool) -> None:
        lo, hi = self.windows[i]
        if self.stop.is_set():  # the read was given up before this sub-window's turn came
            return
        try:
            read = self.one_at_a_time.read(self.listing, self.params_of(lo, hi), self.what_of(lo, hi))
            for page in read:
                if splittable and len(page) >= self.per_page:
                    read.close()  # a heavy day: its parts instead, this first page discarded
                    cut = utc_parts(lo, hi, self.parts)
                    # counted before any part can start: a part's _DONE arriving before its day's _SPLIT
                    # would let the reader stop short and lose the rest of the window
                    if not self.put((i, (_SPLIT, len(cut)))):
                        return
                    with self.lock:
                        first = len(self.windows)
                        self.windows.extend(cut)
                        self.futures.extend(self.pool.submit(self.read_window, j, False) for j in range(first, len(self.windows)))
                    return
                splittable = False
                if not self.put((i, page)):
                    return
            self.put((i, _DONE))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader's thread, raised there
            self.put((i, exc))

    def pages_as_they_come(self) -> Iterator[tuple[datetime, datetime, "Page"]]:
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="lms-day") as pool:
            self.pool = pool
            try:
                remaining = len(self.windows)  # counted before any can split: a split adds its hours itself
                with self.lock:  # started in order, `max_concurrency` at a time
                    self.futures.extend(pool.submit(self.read_window, i, self.parts > 1) for i in range(remaining))
                while remaining:
                    i, item = self.pages.get()
                    if item is _DONE:
                        remaining -= 1
                    elif isinstance(item, tuple) and item and item[0] is _SPLIT:
                        remaining += item[1] - 1
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        yield self.windows[i][0], self.windows[i][1], item
            finally:  # done, failed or abandoned: the others stop asking, those not begun never start
                self.stop.set()
                with self.lock:
                    for future in self.futures:
                        future.cancel()
