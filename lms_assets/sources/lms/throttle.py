"""How hard one run presses the API: requests in flight, requests per second, and backing off together.

dlt's retrying session retries a request on its own thread; with pages read concurrently a 429
must slow the whole run, not only the thread that got it. Every attempt (dlt's retries included)
passes through one `Throttle`:
- at most `max_concurrency` in flight, halved on a 429 and grown back by one after as many
  successes as the current limit;
- at most `requests_per_second` requests in any sliding window of a second (2% longer) of their
  arrivals at the API. A request's arrival is only known to lie between its turn and its answer (a
  thread can be held tens of milliseconds after its turn, by the GIL or the connection pool), so
  each counts from its answer, and one still in flight counts as arriving now: counted from their
  turns with a 5% margin, a run at the limit still had 1 request in 1,001 refused (bench/, 25/s);
- a `Retry-After` pauses every thread, and without a configured rate the run learns one: the sends
  that succeeded in the second before a 429 become its rate (when there were at least five: a
  stray 429 of a flaky API teaches nothing), raised by half after two seconds without a refusal. A
  rate-limited API then refuses a few requests, not a storm of them.
dlt has nothing of the kind for a single client (its parallelism is across resources), hence our own.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from requests import Response, Session
from requests.adapters import HTTPAdapter

WINDOW_MARGIN = 1.02  # the rate's window is 2% longer than a second
PROBE_AFTER_S = 2.0  # a learned rate is raised by half after this long without a 429
LEARN_FROM = 5  # sends in the second before a 429 needed to take it as the API's rate


@dataclass
class _Sent:
    """A request given its turn: when it arrived at the API at the latest, and whether it is still out."""

    at: float
    in_flight: bool = True


class Throttle:
    def __init__(self, max_concurrency: int, requests_per_second: Optional[float] = None,
                 max_retry_delay: float = 60.0):
        self.max = max(1, int(max_concurrency))
        self.limit = self.max
        self.rate = float(requests_per_second) if requests_per_second else None  # configured
        self.learned: Optional[float] = None  # from the API's refusals, when no rate is configured
        self.max_retry_delay = max_retry_delay
        self.in_flight = 0
        self.peak_in_flight = 0
        self.refusals = 0
        self._successes = 0
        self._last_refusal = 0.0
        self._sent: deque[_Sent] = deque()
        self._paused_until = 0.0
        # called with each request as it gets its turn: the OAuth token is put on it then (auth.py)
        self.on_admit: Optional[Callable[[Any], None]] = None
        self._cond = threading.Condition()

    def _window(self) -> tuple[int, float] | None:
        """(sends allowed, seconds) of the rate in force, if any."""
        rate = min(r for r in (self.rate, self.learned) if r) if (self.rate or self.learned) else None
        if not rate:
            return None
        count = max(1, math.floor(rate))
        return count, count / rate * WINDOW_MARGIN

    def _wait_s(self, now: float) -> float:
        """0 when a request may leave now, else how long to wait."""
        if now < self._paused_until:
            return self._paused_until - now
        if self.in_flight >= self.limit:
            return 0.05  # woken earlier by a request that finishes
        window = self._window()
        if window:
            count, seconds = window
            recent = [s for s in self._sent if s.in_flight or now - s.at < seconds]
            if len(recent) >= count:
                answered = [s.at for s in recent if not s.in_flight]
                # the earliest answered one leaves the window then; if all are in flight, an answer wakes us
                return seconds - (now - min(answered)) if answered else 0.05
        return 0.0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while (wait := self._wait_s(time.monotonic())) > 0:
                self._cond.wait(timeout=wait)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            now = time.monotonic()
            sent = _Sent(now)
            self._sent.append(sent)
            keep = max(2.0, (self._window() or (0, 0.0))[1])
            while self._sent and not self._sent[0].in_flight and now - self._sent[0].at > keep:
                self._sent.popleft()
        try:
            yield
        finally:
            with self._cond:
                sent.at, sent.in_flight = time.monotonic(), False  # it arrived by now, at the latest
                self.in_flight -= 1
                self._cond.notify_all()

    def answered(self, response: Response) -> None:
        with self._cond:
            now = time.monotonic()
            if response.status_code == 429:
                self.refusals += 1
                self.limit = max(1, self.limit // 2)
                self._successes = 0
                self._last_refusal = now
                if not self.rate:  # what got through in the last second is what the API allows
                    recent = sum(1 for s in self._sent if now - s.at < 1.0) - 1
                    if recent >= LEARN_FROM:
                        self.learned = float(recent)
                wait = _retry_after(response)
                if wait:
                    self._paused_until = max(self._paused_until, now + min(wait, self.max_retry_delay))
            elif response.status_code < 400:
                self._successes += 1
                if self.limit < self.max and self._successes >= self.limit:
                    self.limit += 1
                    self._successes = 0
                if self.learned and now - self._last_refusal >= PROBE_AFTER_S:
                    self.learned *= 1.5
                    self._last_refusal = now
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
            if self.throttle.on_admit is not None:
                self.throttle.on_admit(request)
            response = super().send(request, *args, **kwargs)
        self.throttle.answered(response)
        return response


def _retry_after(response: Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "0")), 0.0)
    except ValueError:
        return 0.0
