"""How far a long activity load is, reported at a readable pace through a plain callback.

The source knows nothing of Dagster: the asset passes a callback that writes to the run log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional


@dataclass
class Progress:
    pages: int
    rows: int
    window_start: datetime
    window_end: datetime
    position: Optional[datetime]  # the latest activity date fetched so far
    elapsed_s: float

    @property
    def fraction(self) -> float:
        if self.position is None:
            return 0.0
        span = (self.window_end - self.window_start).total_seconds()
        done = (self.position - self.window_start).total_seconds()
        return min(max(done / span, 0.0), 1.0) if span > 0 else 1.0

    @property
    def eta_s(self) -> Optional[float]:
        f = self.fraction
        return self.elapsed_s * (1 - f) / f if f > 0 else None

    def message(self) -> str:
        eta = "unknown" if self.eta_s is None else f"~{self.eta_s:.0f} s"
        where = self.position.isoformat(timespec="seconds") if self.position else "-"
        return (f"activities: {self.pages} pages, {self.rows} rows fetched; window position {where} "
                f"({self.fraction:.0%} of {self.window_start.date()}..{self.window_end.date()}); "
                f"elapsed {self.elapsed_s:.0f} s, time left {eta}")


class ProgressReporter:
    """Calls `report` at most every `every_s` seconds, and once at the end."""

    def __init__(self, report: Optional[Callable[[Progress], None]], start: datetime, end: datetime,
                 every_s: float = 10.0):
        self.report, self.start, self.end, self.every_s = report, start, end, every_s
        self.pages = self.rows = 0
        self.position: Optional[datetime] = None
        self.began = self.last = time.monotonic()

    def begin(self) -> None:
        self.pages = self.rows = 0
        self.position = None
        self.began = self.last = time.monotonic()

    def page(self, rows: int, latest: Optional[datetime]) -> None:
        self.pages += 1
        self.rows += rows
        if latest is not None:  # the furthest date seen (days read concurrently arrive out of order)
            self.position = latest if self.position is None else max(self.position, latest)
        now = time.monotonic()
        if self.report and now - self.last >= self.every_s:
            self.last = now
            self.report(self.snapshot())

    def finish(self) -> None:
        if self.report:
            self.report(self.snapshot())

    def snapshot(self) -> Progress:
        return Progress(self.pages, self.rows, self.start, self.end, self.position, time.monotonic() - self.began)
