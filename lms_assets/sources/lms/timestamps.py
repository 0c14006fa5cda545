"""Instants of the API: the start date, window bounds as the API reads them, record timestamps."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from lms_assets.sources.lms.errors import LmsConfigError, LmsResponseError
from lms_assets.sources.lms.settings import (
    BOUND_MARGIN,
)


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


def lower_bound(start: datetime, fmt: str) -> str:
    """`timestampFrom` for a window starting at `start`: whole seconds, one second early.

    The API's bounds are whole seconds, and whether "after" includes the second itself is not
    documented; asking from a second before covers `start` under either reading.
    """
    return (as_utc(start).replace(microsecond=0) - BOUND_MARGIN).strftime(fmt)


def upper_bound(end: datetime, fmt: str) -> str:
    """`timestampTo` for a window ending (exclusively) at `end`: rounded up, one second late."""
    end = as_utc(end)
    if end.microsecond:
        end = end.replace(microsecond=0) + timedelta(seconds=1)
    return (end + BOUND_MARGIN).strftime(fmt)


def parse_instant(value: Any, record_id: Any, where: str, field: str = "date") -> datetime:
    """A record's timestamp (`date`, `entryDate`, ...) as an aware UTC datetime, fractional seconds kept;
    ISO 8601 or the API's documented `YYYY-MM-DD hh:mm:ss` (UTC)."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    problem = f"has no '{field}'" if value in (None, "") else f"has a '{field}' that is not a timestamp ({value!r})"
    kind = "Activity" if field == "date" else "Record"
    raise LmsResponseError(
        f"{kind} {record_id!r} from {where} {problem}; nothing was loaded for this window. "
        "Report it to the LMS API's owner."
    )
