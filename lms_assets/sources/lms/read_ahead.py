"""The next slice's activity window, read while the slice before it is normalized and loaded.

A range run commits slice by slice (lms_assets/tenant/ingestion/load.py), and between two slices
the API sat idle while dlt normalized and loaded: against a remote API that was about a second per
slice boundary (bench/, 40 ms per request). dlt's pipeline is not safe to extract and load at once,
so the overlap is taken below it: the next window's pages are read in a thread of their own into a
bounded queue, and the next slice's extract takes them from there.

The read's announcements (totals, re-reads) are kept apart until the read is consumed, so each
slice's load-log row still counts its own window only; a read that is never consumed (the run
failed, or the next slice asked another window) is stopped and discarded.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from datetime import datetime
from typing import Any, Callable, Iterator

from lms_assets.sources.lms.helpers import RequestStats
from lms_assets.sources.lms.listing import ListingReader
from lms_assets.sources.lms.settings import Listing

# Rows held ahead at most (about 25 MB of parsed pages): enough for the reads to keep going through a
# slice's load at 40 ms a request, not enough to move the run's peak memory.
READ_AHEAD_ROWS = 10_000
_DONE = object()


class ReadAhead:
    def __init__(self, reader: ListingReader, listing: Listing, start: datetime, end: datetime,
                 params_of: Callable[[datetime, datetime], dict], what_of: Callable[[datetime, datetime], str]):
        self.listing, self.window = listing, (start, end)
        self.stats = RequestStats()  # what the read announces, until it is this slice's
        own = ListingReader(reader.client, reader.hooks, reader.per_page, reader.max_reads, self.stats, reader.max_concurrency)
        pages = own.read_window(listing, start, end, params_of, what_of)
        limit = max(2, READ_AHEAD_ROWS // max(1, min(reader.per_page, listing.max_per_page)))
        self._queue: queue.Queue = queue.Queue(maxsize=limit)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(pages,), name="lms-read-ahead", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, pages: Iterator) -> None:
        with contextlib.closing(pages):  # stopped: the days being read stop asking, those not begun never start
            try:
                for item in pages:
                    if not self._put(item):
                        return
                self._put(_DONE)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
                self._put(exc)

    def consume(self, into: RequestStats) -> Iterator[Any]:
        """The read's items, in the order the read produced them; its announcements go `into` once it is whole."""
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    into.merge(self.stats)
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:  # free what was held; the thread sees the stop at its next page
                self._queue.get_nowait()
