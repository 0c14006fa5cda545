"""Deterministic LMS data for the sandbox API, in two shapes (profiles).

`realistic` (the default of `python -m lms_assets.sandbox`) shapes records as the real API
documents them (Thrive Learning's REST API): 24-hex ids, nested user fields, numbers whose JSON
form is whole on some records and fractional on others, nested fields that are null, `{}` or
`[]`, fields present on some days and absent on others, a `deleted` flag. `seed` keeps the
seed sketch's simplified schema, which the older tests were written against.

Records are computed from their index and the seed, never stored, so a sandbox serving
millions of activities starts in well under a second and pages cost only what they return.
Activity instants are kept as integer milliseconds (sorted) so a window filter is a pair of
bisections, and the boundary cases that break naive clients (an activity exactly at midnight,
one a fraction of a second before it) exist on every day.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property, lru_cache

DAY_MS = 86_400_000
PROFILES = ("realistic", "seed")
ACTIVITY_TYPES = ("viewed", "started", "completed", "commented", "rated")
# The API's documented values.
API_ACTIVITY_TYPES = ("viewed", "completed", "passed", "pinned", "unpinned", "liked", "unliked", "commented",
                      "commentdeleted", "shared", "progressed", "registered", "followed", "unfollowed", "started",
                      "resumed", "searched", "found", "loggedin", "loggedout")
API_CONTENT_TYPES = ("article", "assessment", "broadcast", "cmi5", "elearning", "event", "file", "pathway",
                     "question", "quiz", "scorm", "url", "video", "mixed")
CONTENT_TYPES = ("course", "video", "article", "quiz")
TAGS = ("python", "sql", "leadership", "safety", "onboarding", "compliance", "design")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")


_MASK = (1 << 64) - 1
_KINDS = {"t": 1, "u": 2, "c": 3, "a": 4, "p": 5, "d": 6, "m": 7, "g": 8, "e": 9, "f": 10, "w": 11, "v": 12}


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
    profile: str = "seed"
    audiences: int = 8
    assignments: int = 12
    cpd_per_day: int = 20
    steady: bool = False  # realistic records spread evenly over the days (no weekly rhythm, no growth)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile is {self.profile!r}: one of {', '.join(PROFILES)}")

    @property
    def realistic(self) -> bool:
        return self.profile == "realistic"

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
        if self.realistic and not self.steady:  # weekdays busier than weekends, and growth over the period
            return sorted(out + self._rhythmic(regular))
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

    def _rhythmic(self, regular: int) -> list[int]:
        """`regular` instants spread over the days by weight: weekends at 35%, a rise of half over the period."""
        weights = [(0.35 if (self.start + timedelta(days=d)).weekday() >= 5 else 1.0) * (1 + 0.5 * d / max(self.days, 1))
                   for d in range(self.days)]
        total = sum(weights)
        bounds = [round(regular * sum(weights[:d + 1]) / total) for d in range(self.days)]
        out, i = [], 0
        for d, upto in enumerate(bounds):
            day_start = self.start_ms + d * DAY_MS
            for _ in range(i, upto):
                h = _mix(self.seed, "t", i)
                ms = day_start + 1 + h % (DAY_MS - 251)  # never on the midnight specials
                if h >> 40 & 1:  # half the activities fall on whole seconds
                    ms -= ms % 1000
                    ms = ms if ms > day_start else ms + 1000
                out.append(ms)
                i += 1
        return out

    # ---- records -------------------------------------------------------------------------

    def _hex(self, kind: str, i: int) -> str:
        # 24 hex digits like the API's ids; the index in the low digits keeps them unique
        return f"{_mix(self.seed, kind, i) >> 32:08x}{_mix(self.seed, kind, ~i & 0xFFFF) & 0xFFFFFFFF:08x}{i:08x}"

    def user_id(self, i: int) -> str:
        return self._hex("u", i) if self.realistic else f"usr_{i:07d}"

    def content_id(self, i: int) -> str:
        return self._hex("c", i) if self.realistic else f"cnt_{i:06d}"

    def activity_id(self, i: int) -> str:
        return self._hex("a", i) if self.realistic else f"act_{i:09d}"

    def unknown_user_id(self, i: int) -> str:
        return self._hex("p", i) if self.realistic else f"usr_gone_{i}"

    def user(self, i: int) -> dict:
        if self.realistic:
            return self._api_user(i)
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
        if self.realistic:
            return self._api_content(i)
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

    def _actor(self, i: int, h: int) -> str | None:
        """The user of activity `i`: null for a share, a user the API no longer lists for another."""
        r = ((h >> 8) % 10_000) / 10_000
        if r < self.null_user_share:
            return None
        if r < self.null_user_share + self.unknown_user_share:
            return self.unknown_user_id(i)
        return self.user_id((h >> 24) % self.users)

    def activity(self, i: int, ms: int | None = None) -> dict:
        """Activity `i`; `ms` overrides its instant (records the sandbox inserts while a listing is read)."""
        if self.realistic:
            return self._api_activity(i, self.activity_ms[i] if ms is None else ms)
        h = _mix(self.seed, "a", i)
        kind = ACTIVITY_TYPES[h % len(ACTIVITY_TYPES)]
        user = self._actor(i, h)
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
            "id": self.activity_id(i),
            "date": _iso(self.activity_ms[i] if ms is None else ms),
            "type": kind,
            "contentType": None if content is None else CONTENT_TYPES[(h >> 44) % len(CONTENT_TYPES)],
            "contextId": content,
            "contextType": None if content is None else "content",
            "data": data,
            "user": user,
        }


    # ---- the real API's shapes (profile "realistic") ---------------------------------------

    def _api_user(self, i: int) -> dict:
        h = _mix(self.seed, "u", i)
        created = self.start_ms - (h % (400 * DAY_MS))
        created -= created % 1000
        first = FIRST_NAMES[h % len(FIRST_NAMES)]
        last = LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
        # A number whose JSON form is whole on the first records and fractional later: the trap
        # that types a column bigint on the first page and then refuses 0.85.
        compliance = 0 if i < 25 else _number(((h >> 10) % 101) / 100)
        level = _number(((h >> 20) % 9 + 1) / (2 if (h >> 24) % 6 == 0 else 1))
        positions = [] if (h >> 12) % 5 == 0 else [self._position(i, k) for k in range(1 + (h >> 13) % 2)]
        extra = (h >> 16) % 4
        additional = None if extra == 0 else {} if extra == 1 else {
            "costCentre": f"CC{(h >> 18) % 40:02d}",
            # numbers sometimes sent as strings, as in the real API's free-form fields
            "employeeNumber": (h >> 20) % 90_000 if (h >> 19) & 1 else str((h >> 20) % 90_000),
        }
        logged_in = (h >> 30) % 6 != 0
        record = {
            "id": self.user_id(i),
            "ref": None if (h >> 26) % 8 == 0 else f"EMP{i:06d}",
            "firstName": first,
            "lastName": last,
            "email": f"{first.lower()}.{last.lower()}.{i}@example.com",
            "role": ("learner", "learner", "learner", "manager", "admin")[(h >> 28) % 5],
            "status": ("active", "active", "active", "inactive", "suspended")[(h >> 32) % 5],
            "positions": positions,
            "additionalFields": additional,
            "languageCode": ("en", "en-GB", "de", "fr")[(h >> 34) % 4],
            "deleted": (h >> 36) % 25 == 0,
            "compliance": compliance,
            "level": level,
            "firstLogin": _iso(created + DAY_MS) if logged_in else None,
            "lastLogin": _iso(created + DAY_MS + (h >> 38) % (60 * DAY_MS)) if logged_in else None,
            "createdAt": _iso(created),
            "updatedAt": _iso(created + (h >> 16) % (30 * DAY_MS) // 1000 * 1000),
            "tags": {"skills": [TAGS[(h >> (40 + 3 * k)) % len(TAGS)] for k in range((h >> 44) % 3)]},
            "rank": None if (h >> 46) % 3 == 0 else {} if (h >> 46) % 3 == 1 else {"name": "Gold", "points": (h >> 48) % 5000},
        }
        if (h >> 52) % 7:  # absent on some records, as optional fields are
            record["timeZone"] = ("Europe/London", "Europe/Berlin", "America/New_York")[(h >> 55) % 3]
        return record

    def _position(self, i: int, k: int) -> dict:
        h = _mix(self.seed, "u", i * 7 + k + 1)
        start = self.start_ms - (h % (900 * DAY_MS))
        return {
            "id": self._hex("u", 10_000_000 + i * 4 + k),
            "title": ("Engineer", "Analyst", "Nurse", "Team Lead")[h % 4],
            "manager": None if (h >> 4) % 3 == 0 else {"id": self.user_id((h >> 8) % self.users)},
            "ouId": f"{(h >> 12) % 0xFFFFFF:024x}",
            "isActive": k == 0,
            "startDate": _iso(start - start % DAY_MS),
            "endDate": None if k == 0 else _iso(start - start % DAY_MS + 200 * DAY_MS),
            "createdAt": _iso(start - start % 1000),
            "updatedAt": _iso(start - start % 1000 + DAY_MS),
        }

    def _api_content(self, i: int) -> dict:
        h = _mix(self.seed, "c", i)
        created = self.start_ms - (h % (700 * DAY_MS))
        created -= created % 1000
        kind = API_CONTENT_TYPES[h % len(API_CONTENT_TYPES)]
        length = (h >> 20) % 4
        duration = None if length == 0 else {"value": _number(((h >> 22) % 120 + 1) / (1 if length < 3 else 4)),
                                              "unit": "minutes"}
        history = [] if (h >> 30) % 3 == 0 else [
            {"action": ("created", "published", "updated")[k], "date": _iso(created + k * DAY_MS),
             "by": self.user_id((h >> (32 + k)) % self.users)} for k in range(1 + (h >> 30) % 3)]
        return {
            "id": self.content_id(i),
            "title": f"Content {i}",
            "description": None if (h >> 8) % 6 == 0 else f"<p>About <b>topic {i}</b> &amp; more</p>",
            "tags": [TAGS[(h >> (12 + 3 * k)) % len(TAGS)] for k in range((h >> 10) % 4)],
            "type": kind,
            "createdAt": _iso(created),
            "updatedAt": _iso(created + 3 * DAY_MS),
            "author": None if (h >> 36) % 5 == 0 else self.user_id((h >> 38) % self.users),
            "isOfficial": bool((h >> 31) & 1),
            "duration": duration,
            "contentHistory": history,
        }

    def _api_activity(self, i: int, ms: int) -> dict:
        h = _mix(self.seed, "a", i)
        kind = API_ACTIVITY_TYPES[h % len(API_ACTIVITY_TYPES)]
        user = self._actor(i, h)
        content = None if (h >> 40) % 20 == 0 else (h >> 44) % self.contents
        as_text = (h >> 62) & 1  # numbers in `data` sometimes arrive as strings
        if kind in ("completed", "passed"):
            score = (h >> 50) % 101
            data = {"score": str(score) if as_text else score, "duration": 60 + (h >> 20) % 3600}
        elif kind == "progressed":
            progress = _number(((h >> 50) % 101) / 100)
            data = {"progress": str(progress) if as_text else progress}
        elif kind in ("searched", "found"):
            data = {"term": TAGS[(h >> 50) % len(TAGS)]}
        elif kind == "commented":
            data = {"text": f"comment {i}"}
        else:
            data = {}
        record = {
            "id": self.activity_id(i),
            "user": user,
            "type": kind,
            "date": _iso(ms),
            "contextId": None if content is None else self.content_id(content),
            "contextType": None if content is None else "content",
            "data": data,
        }
        day = (ms - self.start_ms) // DAY_MS
        if day % 4 != 3:  # fields present on some days and absent on others
            record["name"] = f"{kind} Content {content}" if content is not None else kind
        if day % 3 == 1 and kind in ("liked", "shared", "completed"):
            # a field the API does not document, on some days only: whole at first, then fractions
            record["points"] = 0 if day < 3 else _number(((h >> 52) % 40) / 4)
        if day % 5 != 2:
            w = (h >> 56) % 3
            record["with"] = None if w == 0 else {} if w == 1 else {"id": self.user_id((h >> 20) % self.users), "type": "user"}
        return record

    # ---- audiences, assignments, enrolments, CPD (the same shapes in both profiles) ---------

    def audience_id(self, k: int) -> str:
        return self._hex("d", k)

    def audience(self, k: int) -> dict:
        h = _mix(self.seed, "d", k)
        parent = None if k < 2 else k % 2
        return {
            "id": self.audience_id(k),
            "name": f"Structure {k}" if k < 2 else f"Audience {k}",
            "reference": None if k % 5 == 4 else f"AUD{k:04d}",
            "category": "structure" if k < 2 else "audience",
            "type": ("smart", "manual")[h % 2],
            "parent": None if parent is None else {"id": self.audience_id(parent), "name": f"Structure {parent}",
                                                   "reference": f"AUD{parent:04d}"},
        }

    @cached_property
    def members(self) -> list[list[int]]:
        """User indexes of each audience: every user in one of the two structures, a quarter in each audience."""
        return [[j for j in range(self.users) if (j % 2 == k if k < 2 else _mix(self.seed, "m", k * 1_000_003 + j) % 4 == 0)]
                for k in range(self.audiences)]

    def member(self, k: int, j: int) -> dict:
        user = self.user(j)
        return {"userId": user["id"], "reference": user.get("ref", f"EMP{j:06d}"), "email": user["email"]}

    def assignment_id(self, a: int) -> str:
        return self._hex("g", a)

    def assignment_audience(self, a: int) -> int:
        return a % self.audiences

    def assignment(self, a: int) -> dict:
        h = _mix(self.seed, "g", a)
        created = self.start_ms - (30 + h % 170) * DAY_MS
        created -= created % 1000
        deleted = a == self.assignments - 1  # listed, flagged deleted
        return {
            "id": self.assignment_id(a),
            "audienceId": self.audience_id(self.assignment_audience(a)),
            "primaryContentId": self.content_id((h >> 8) % self.contents),
            "alternativeContentIds": [self.content_id((h >> (16 + 4 * k)) % self.contents) for k in range((h >> 12) % 3)],
            "completionPeriod": (7, 14, 30, 90)[(h >> 20) % 4],
            "recurrence": None if (h >> 22) % 3 else 365,
            "isActive": a % 5 != 4,
            "isDeleted": deleted,
            "createdAt": _iso(created),
            "updatedAt": _iso(created + DAY_MS),
            "deletedAt": _iso(created + 2 * DAY_MS) if deleted else None,
        }

    def enrolment_id(self, a: int, j: int) -> str:
        return self._hex("e", a * 10_000_000 + j)

    def enrolment(self, a: int, j: int) -> dict:
        h = _mix(self.seed, "e", a * 10_000_000 + j)
        assignment = self.assignment(a)
        available = self.start_ms - (h % 60) * DAY_MS
        available -= available % DAY_MS
        due = available + int(assignment["completionPeriod"]) * DAY_MS
        r = (h >> 8) % 100
        status = "complete" if r < 45 else "open" if r < 70 else "overdue" if r < 90 else "scheduled" if r < 95 else "archived"
        if status == "scheduled":
            available, due = self.end_ms + 7 * DAY_MS, self.end_ms + 37 * DAY_MS
        completed = available + (h >> 16) % max(due - available, 1) // 1000 * 1000 if status == "complete" else None
        updated = self.start_ms - 30 * DAY_MS + (h >> 24) % ((self.days + 30) * DAY_MS)
        updated -= updated % 1000
        return {
            "id": self.enrolment_id(a, j),
            "userId": self.user_id(j),
            "assignmentId": assignment["id"],
            "audienceId": assignment["audienceId"],
            "primaryContentId": assignment["primaryContentId"],
            "status": status,
            "availableDate": _iso(available),
            "dueDate": _iso(due),
            "lastCompletedAt": None if completed is None else _iso(completed),
            "updatedAt": _iso(updated),
        }

    def enrolments_of(self, a: int) -> list[int]:
        return self.members[self.assignment_audience(a)]

    @cached_property
    def cpd_ms(self) -> list[int]:
        """Sorted whole-second instants of the CPD entries: `cpd_per_day` a day, the first exactly at midnight."""
        out = []
        for d in range(self.days):
            midnight = self.start_ms + d * DAY_MS
            for k in range(self.cpd_per_day):
                ms = midnight if k == 0 else midnight + _mix(self.seed, "w", d * 100_000 + k) % DAY_MS
                out.append(ms - ms % 1000)
        out.sort()
        return out

    def cpd_entry(self, i: int) -> dict:
        h = _mix(self.seed, "f", i)
        ms = self.cpd_ms[i]
        kind = ("course", "webinar", "reading", "conference")[h % 4]
        category = (h >> 4) % 3
        return {
            "logEntryId": self._hex("f", i),
            "userId": self.user_id((h >> 8) % self.users),
            "activity": {"type": kind, "name": f"{kind.title()} {i}"},
            "category": {"categoryId": self._hex("w", category), "name": ("Clinical", "Leadership", "Safety")[category]},
            # the documented bound format, written in the records too
            "entryDate": datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "durationMinutes": _number(((h >> 16) % 480 + 1) / (1 if (h >> 26) & 1 else 4)),
            "isVerified": bool((h >> 28) & 1),
        }

    # ---- listings --------------------------------------------------------------------------

    def activity_range(self, from_ms: int | None, to_ms: int | None, inclusive: bool = True,
                       instants: list[int] | None = None) -> range:
        """Indexes of activities (or of `instants`) within the bounds: `from <= t <= to`, or `from < t < to`
        when exclusive.

        The API documents the bounds as "after" and "before" without saying which.
        """
        ms = self.activity_ms if instants is None else instants
        left, right = (bisect.bisect_left, bisect.bisect_right) if inclusive else (bisect.bisect_right, bisect.bisect_left)
        lo = 0 if from_ms is None else left(ms, from_ms)
        hi = len(ms) if to_ms is None else right(ms, to_ms)
        return range(lo, max(lo, hi))


def _number(value: float) -> int | float:
    """A JSON number as an API writes it: `0`, not `0.0`, when it is whole."""
    return int(value) if float(value).is_integer() else value


STRICT_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def parse_timestamp(value: str) -> int:
    """A bound as epoch milliseconds: the documented `YYYY-MM-DD hh:mm:ss` (UTC), or ISO 8601."""
    dt = datetime.fromisoformat(value.replace("z", "Z"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return to_ms(dt.astimezone(timezone.utc))

