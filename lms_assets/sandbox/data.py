"""Deterministic LMS data for the sandbox API.

Records are computed from their index and the seed, never stored, so a sandbox serving
millions of activities starts in well under a second and pages cost only what they return.
Activity instants are kept as integer milliseconds (sorted) so the inclusive window filter of
the real API is a pair of bisections, and the boundary cases that break naive clients
(an activity exactly at midnight, one a fraction of a second before it) exist on every day.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property, lru_cache

DAY_MS = 86_400_000
ACTIVITY_TYPES = ("viewed", "started", "completed", "commented", "rated")
CONTENT_TYPES = ("course", "video", "article", "quiz")
TAGS = ("python", "sql", "leadership", "safety", "onboarding", "compliance", "design")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")


_MASK = (1 << 64) - 1
_KINDS = {"t": 1, "u": 2, "c": 3, "a": 4}


def _mix(seed: int, kind: str, i: int) -> int:
    """A stable 64-bit pseudo-random value for (seed, kind, i) (splitmix64): the same on every machine."""
    z = (seed * 0x9E3779B97F4A7C15 + _KINDS[kind] * 0xBF58476D1CE4E5B9 + i * 0x94D049BB133111EB) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


@lru_cache(maxsize=4096)
def _day_prefix(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, tz=timezone.utc).strftime("%Y-%m-%dT")


def _iso(ms: int) -> str:
    """The API's timestamp format: whole seconds as `...SSZ`, otherwise milliseconds."""
    day, rest = divmod(ms, DAY_MS)
    secs, frac = divmod(rest, 1000)
    h, secs = divmod(secs, 3600)
    m, secs = divmod(secs, 60)
    base = f"{_day_prefix(day)}{h:02d}:{m:02d}:{secs:02d}"
    return f"{base}Z" if frac == 0 else f"{base}.{frac:03d}Z"


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@dataclass(frozen=True)
class SandboxData:
    """The generated data set: `activities` spread over `days` days from `start`."""

    seed: int = 42
    users: int = 2_000
    contents: int = 500
    activities: int = 20_000
    start: date = date(2024, 1, 1)
    days: int = 30
    unknown_user_share: float = 0.01
    null_user_share: float = 0.02

    @property
    def start_ms(self) -> int:
        return to_ms(datetime(self.start.year, self.start.month, self.start.day, tzinfo=timezone.utc))

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * DAY_MS

    @cached_property
    def activity_ms(self) -> list[int]:
        """Sorted instants; every day gets one activity at 00:00:00.000 and one 250 ms before.

        The rest are spread evenly with a deterministic jitter; half carry milliseconds.
        """
        n = self.activities
        specials: list[int] = []
        for d in range(self.days):
            midnight = self.start_ms + d * DAY_MS
            specials.append(midnight)
            if d > 0:
                specials.append(midnight - 250)
        specials = specials[:n]
        regular = n - len(specials)
        span = self.end_ms - self.start_ms
        out = list(specials)
        for i in range(regular):
            h = _mix(self.seed, "t", i)
            base = self.start_ms + (i * span) // max(regular, 1)
            jitter = h % max(span // max(regular, 1), 1)
            ms = base + jitter
            if h >> 40 & 1:  # half the activities fall on whole seconds
                ms -= ms % 1000
            out.append(min(ms, self.end_ms - 1))
        out.sort()
        return out

    # ---- records -------------------------------------------------------------------------

    def user_id(self, i: int) -> str:
        return f"usr_{i:07d}"

    def content_id(self, i: int) -> str:
        return f"cnt_{i:06d}"

    def user(self, i: int) -> dict:
        h = _mix(self.seed, "u", i)
        created = self.start_ms - (h % (400 * DAY_MS))
        created -= created % 1000
        first = FIRST_NAMES[h % len(FIRST_NAMES)]
        last = LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
        return {
            "id": self.user_id(i),
            "email": f"{first.lower()}.{last.lower()}.{i}@example.com",
            "firstName": first,
            "lastName": last,
            "createdAt": _iso(created),
            "updatedAt": _iso(created + (h >> 16) % (30 * DAY_MS) // 1000 * 1000),
            # profile and status fields the seed sketch does not list
            "status": ("active", "active", "active", "suspended")[(h >> 24) % 4],
            "role": ("learner", "learner", "manager", "admin")[(h >> 28) % 4],
            "locale": ("en-US", "en-GB", "de-DE", "fr-FR")[(h >> 32) % 4],
            "department": None if (h >> 36) % 5 == 0 else f"Dept {(h >> 36) % 12}",
        }

    def content(self, i: int) -> dict:
        h = _mix(self.seed, "c", i)
        created = self.start_ms - (h % (700 * DAY_MS))
        created -= created % 1000
        ntags = (h >> 8) % 4
        tags = None if (h >> 12) % 7 == 0 else [TAGS[(h >> (16 + 3 * k)) % len(TAGS)] for k in range(ntags)]
        return {
            "id": self.content_id(i),
            "type": CONTENT_TYPES[h % len(CONTENT_TYPES)],
            "description": None if (h >> 20) % 6 == 0 else f"About topic {i}",
            "author": f"author{(h >> 24) % 40}",
            "createdAt": _iso(created),
            "isOfficial": None if (h >> 30) % 9 == 0 else bool((h >> 31) & 1),
            "tags": tags,
            "title": f"Content {i}",
            "updatedAt": _iso(created + 3 * DAY_MS),
        }

    def activity(self, i: int) -> dict:
        h = _mix(self.seed, "a", i)
        kind = ACTIVITY_TYPES[h % len(ACTIVITY_TYPES)]
        r = ((h >> 8) % 10_000) / 10_000
        if r < self.null_user_share:
            user = None
        elif r < self.null_user_share + self.unknown_user_share:
            user = f"usr_gone_{i}"
        else:
            user = self.user_id((h >> 24) % self.users)
        content = None if (h >> 40) % 20 == 0 else self.content_id((h >> 44) % self.contents)
        if kind == "viewed":
            data = {"progress": ((h >> 50) % 101) / 100}
        elif kind == "started":
            data = {"device": ("web", "ios", "android")[(h >> 50) % 3]}
        elif kind == "completed":
            data = {"score": (h >> 50) % 101, "durationSeconds": 60 + (h >> 20) % 3600}
        elif kind == "commented":
            data = {"text": f"comment {i}", "length": 9 + len(str(i))}
        else:
            data = {"rating": 1 + (h >> 50) % 5}
        return {
            "id": f"act_{i:09d}",
            "date": _iso(self.activity_ms[i]),
            "type": kind,
            "contentType": None if content is None else CONTENT_TYPES[(h >> 44) % len(CONTENT_TYPES)],
            "contextId": content,
            "contextType": None if content is None else "content",
            "data": data,
            "user": user,
        }

    # ---- listings --------------------------------------------------------------------------

    def activity_range(self, from_ms: int | None, to_ms: int | None) -> range:
        """Indexes of activities with `from_ms <= t <= to_ms` (both inclusive, as the API)."""
        ms = self.activity_ms
        lo = 0 if from_ms is None else bisect.bisect_left(ms, from_ms)
        hi = len(ms) if to_ms is None else bisect.bisect_right(ms, to_ms)
        return range(lo, max(lo, hi))


def parse_timestamp(value: str) -> int:
    """Parse the API's `YYYY-MM-DDTHH:MM:SSZ` (fractions tolerated) into epoch milliseconds."""
    dt = datetime.fromisoformat(value.replace("z", "Z"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return to_ms(dt.astimezone(timezone.utc))

