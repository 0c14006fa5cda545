"""What one run asked of the API: pages, retries, totals announced, records vanished (its metadata)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from requests import Response

from lms_assets.sources.lms.responses import RETRYABLE


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
