"""How hard one run presses the API: requests in flight, requests per second, and backing off together.

dlt's retrying session retries a request on its own thread; with pages read concurrently a 429
must slow the whole run, not only the thread that got it. Every attempt (dlt's retries included)
passes through one `Throttle`: at most `max_concurrency` in flight (halved on a 429, grown back
by one after as many successes as the current limit), starts spaced to stay under
`requests_per_second`, and a `Retry-After` honoured by every thread. dlt has nothing of the kind
for a single client (its parallelism is per resource), hence our own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Iterator, Optional

from requests import Response, Session
from requests.adapters import HTTPAdapter

# Starts are spaced a little wider than 1/rate: requests leave in order but can arrive closer
# together than they left, and the API counts arrivals.
RATE_MARGIN = 1.05


class Throttle:
    def __init__(self, max_concurrency: int, requests_per_second: Optional[float] = None,
                 max_retry_delay: float = 60.0):
        self.max = max(1, int(max_concurrency))
        self.limit = self.max
        self.spacing = RATE_MARGIN / float(requests_per_second) if requests_per_second else 0.0
        self.max_retry_delay = max_retry_delay
        self.in_flight = 0
        self.peak_in_flight = 0
        self.refusals = 0
        self._successes = 0
        self._next_start = 0.0
        self._paused_until = 0.0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while True:
                now = time.monotonic()
                if self.in_flight < self.limit and now >= self._paused_until:
                    break
                self._cond.wait(timeout=max(self._paused_until - now, 0.01))
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            start = max(now, self._next_start)
            self._next_start = start + self.spacing
        if start > now:
            time.sleep(start - now)
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()

    def answered(self, response: Response) -> None:
        with self._cond:
            if response.status_code == 429:
                self.refusals += 1
                self.limit = max(1, self.limit // 2)
                self._successes = 0
                wait = _retry_after(response)
                if wait:
                    self._paused_until = max(self._paused_until, time.monotonic() + min(wait, self.max_retry_delay))
            elif response.status_code < 400:
                self._successes += 1
                if self.limit < self.max and self._successes >= self.limit:
                    self.limit += 1
                    self._successes = 0
            self._cond.notify_all()

    def install(self, session: Session) -> Session:
        """Route every attempt `session` sends through this throttle.

        At the transport adapter, below dlt's retry (which wraps `Session.send`), so each retry
        is a request of its own; the pool holds a connection per request in flight.
        """
        adapter = _ThrottledAdapter(self, pool_connections=2, pool_maxsize=self.max)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


class _ThrottledAdapter(HTTPAdapter):
    def __init__(self, throttle: Throttle, **kwargs: Any):
        self.throttle = throttle
        super().__init__(**kwargs)

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        with self.throttle.slot():
            response = super().send(request, *args, **kwargs)
        self.throttle.answered(response)
        return response


def _retry_after(response: Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "0")), 0.0)
    except ValueError:
        return 0.0
