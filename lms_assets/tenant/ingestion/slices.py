"""The slices a range run commits one at a time: whole UTC days, at most `days` per slice.

A slice is the unit of progress a failed run keeps (issue #13): committed whole, logged in
`lms._lms_windows`, skipped by a retry of the same run. Days a parent run committed are left out
and the rest is cut again, so a retry with another slice size still skips exactly those days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

DAY = timedelta(days=1)


def _days(start: datetime, end: datetime) -> list[datetime]:
    days, day = [], start
    while day < end:
        days.append(day)
        day += DAY
    return days


def slices(start: datetime, end: datetime, days: int,
           committed: Iterable[tuple[datetime, datetime]] = ()) -> list[tuple[datetime, datetime]]:
    """`[start, end)` (midnight to midnight, UTC) as slices of at most `days` days, without the committed days."""
    done = {day for a, b in committed for day in _days(a, b)}
    out: list[tuple[datetime, datetime]] = []
    for day in _days(start, end):
        if day in done:
            continue
        if out and out[-1][1] == day and (out[-1][1] - out[-1][0]) < days * DAY:
            out[-1] = (out[-1][0], day + DAY)
        else:
            out.append((day, min(day + DAY, end)))
    return out


def days_of(start: datetime, end: datetime) -> list[datetime]:
    """The UTC days of `[start, end)`: the partitions a slice materializes."""
    return _days(start, end)
