"""A warehouse that goes away: ride out a short outage, then say so in one sentence (issue #38).

dlt retries a failed load job five times about a second apart and then raises a multi-line
`PipelineStepFailed`; a connection refused before the load raises psycopg2's own error. Neither
names the warehouse or the setting to check, and six seconds of PostgreSQL restarting outlast
them. `ride_out` repeats one warehouse step (connect, load, log) with backoff for up to
LMS_WAREHOUSE_OUTAGE_SECONDS: dlt resumes a half-loaded package where it stopped, so repeating
a load is safe. What is not an outage (a read-only file, a full disk) fails at once.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Optional, TypeVar

from lms_assets.warehouse.memory import exception_chain

T = TypeVar("T")
ENV = "LMS_WAREHOUSE_OUTAGE_SECONDS"
DEFAULT_SECONDS = 60.0
_FIRST_DELAY_S, _MAX_DELAY_S = 0.5, 8.0
KINDS = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "motherduck": "MotherDuck", "snowflake": "Snowflake",
         "bigquery": "BigQuery"}

# (what the driver says, lower-cased) -> what the sentence says. Our own words, never the driver's
# text: a connection error can quote the connection string.
TRANSIENT = (
    ("could not set lock on file", "another process holds the database file's lock"),
    ("connection refused", "the connection was refused"),
    ("could not connect", "the connection was refused"),
    ("server closed the connection", "the server closed the connection"),
    ("terminating connection", "the server closed the connection"),
    ("connection already closed", "the server closed the connection"),
    ("connection reset", "the server closed the connection"),
    ("ssl syscall error", "the server closed the connection"),
    ("database system is shutting down", "the server is shutting down"),
    ("database system is starting up", "the server is starting up"),
    ("database system is in recovery mode", "the server is recovering"),
    ("database system is not yet accepting connections", "the server is starting up"),
    ("timeout expired", "the connection timed out"),
    ("could not translate host name", "the host name did not resolve"),
)
PERMANENT = (
    ("no space left on device", "the disk is full"),
    ("read-only", "the warehouse is read-only here"),
    ("readonly", "the warehouse is read-only here"),
    ("permission denied", "the warehouse refused the write (permission denied)"),
)


class WarehouseUnavailableError(Exception):
    """The one sentence a person reads when the warehouse could not be used; `permanent`: a retry would fail alike."""

    def __init__(self, where: "Place", doing: str, reason: str, waited: Optional[float] = None, permanent: bool = False,
                 kept: Optional[str] = None):
        self.where, self.doing, self.reason, self.waited, self.permanent, self.kept = where, doing, reason, waited, permanent, kept
        super().__init__(where.sentence(doing, reason, waited, kept))

    def keeping(self, days: str) -> "WarehouseUnavailableError":
        """The same failure, saying the days it was writing are kept for the re-run (pending.py)."""
        return WarehouseUnavailableError(self.where, self.doing, self.reason, self.waited, self.permanent, days)


def outage_seconds() -> float:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(f"{ENV} is {raw!r}: set it to the seconds a warehouse outage is ridden out (0 or more; default 60).")
    return value


def _reason(exc: BaseException, table: tuple[tuple[str, str], ...]) -> Optional[str]:
    for cause in exception_chain(exc):
        text = str(cause).lower()
        for marker, reason in table:
            if marker in text:
                return reason
    return None


def transient_reason(exc: BaseException) -> Optional[str]:
    return _reason(exc, TRANSIENT)


def permanent_reason(exc: BaseException) -> Optional[str]:
    return _reason(exc, PERMANENT)


def ride_out(action: Callable[[], T], doing: str, where: Callable[[], "Place"], log: Callable[[str], Any] = print,
             seconds: Optional[float] = None) -> T:
    """`action()`, repeated with backoff while the warehouse is away, for up to `seconds` from the first failure."""
    limit = outage_seconds() if seconds is None else seconds
    first_failure, delay = None, _FIRST_DELAY_S
    while True:
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - only the warehouse's outages are repeated, the rest re-raised
            reason = transient_reason(exc)
            if reason is None:
                if (permanent := permanent_reason(exc)) is not None:
                    raise WarehouseUnavailableError(where(), doing, permanent, permanent=True) from exc
                raise
            now = time.monotonic()
            first_failure = now if first_failure is None else first_failure
            left = limit - (now - first_failure)
            if left <= 0:
                raise WarehouseUnavailableError(where(), doing, reason, limit) from exc
            log(f"{where().name} unavailable while {doing} ({reason}); trying again in {min(delay, left):.1f} s, "
                f"for up to {limit:g} s in all ({ENV}).")
            time.sleep(min(delay, left))
            delay = min(delay * 2, _MAX_DELAY_S)


class Place:
    """The warehouse as a sentence names it: kind and host or file, and the setting that points at it."""

    def __init__(self, kind: str, location: str, setting: str):
        self.kind, self.location, self.setting = kind, location, setting

    @property
    def name(self) -> str:
        return f"The warehouse ({KINDS.get(self.kind, self.kind)} {self.location})"

    def sentence(self, doing: str, reason: str, waited: Optional[float] = None, kept: Optional[str] = None) -> str:
        rode = f" and did not come back within {waited:g} s ({ENV})" if waited is not None else ""
        check = "close the other process (a DuckDB shell or notebook) or " if "lock" in reason else ""
        rerun = (f"days committed before are kept, and days {kept}, already read, load without asking the API again"
                 if kept else "whole days committed before are kept")
        return (f"{self.name} failed while {doing}: {reason}{rode}; {check}check {self.setting} and that the "
                f"warehouse is up and writable, then re-run: {rerun}.")


def place(kind: str, duckdb_path: Any = None, credentials: Any = None) -> Place:
    """Where the warehouse is, from the values dlt resolved; a password never enters it."""
    upper = kind.upper()
    setting = f"destination.{kind}.credentials (env DESTINATION__{upper}__CREDENTIALS)"
    if kind == "duckdb":
        return Place(kind, f"file {duckdb_path}", setting)
    host = getattr(credentials, "host", None)
    port = getattr(credentials, "port", None)
    database = getattr(credentials, "database", None)
    location = "at " + (f"{host}:{port}" if host and port else str(host or "an unknown host"))
    return Place(kind, location + (f", database {database}" if database else ""), setting)
