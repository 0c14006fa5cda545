"""`--evolving`: enrolments and assignments that change day by day under a settable clock.

Each enrolment starts from its record as it stood before the period (updated before `start`) and
then meets at most two events, at least three days apart, each at 00:00:00, 23:59:59 or a time of
its own on its day: an open or overdue enrolment is completed, and where its assignment recurs it
is reopened with a new due date (a second cycle); an open one past its due date turns overdue; a
complete one is archived. One assignment is deleted half-way. The API serves the state at the
clock (`POST /_sandbox/clock?at=...`), each record's `updatedAt` its latest event, so a test can
load day after day and compare with `enrolment_at` at each day's end.
"""

from __future__ import annotations

from lms_assets.sandbox.data import DAY_MS, SandboxData, _iso, _mix, parse_timestamp


def _base(data: SandboxData, a: int, j: int) -> dict:
    record = data.enrolment(a, j)
    h = _mix(data.seed, "v", a * 10_000_000 + j)
    return {**record, "updatedAt": _iso(data.start_ms - DAY_MS - (h >> 40) % (20 * DAY_MS) // 1000 * 1000)}


def _instant(data: SandboxData, day: int, h: int) -> int:
    """An event's instant on `day` of the period: midnight, a second before the next, or a time of its own."""
    kind = h % 4
    offset = 0 if kind == 0 else DAY_MS - 1000 if kind == 1 else (h >> 8) % 86_400 * 1000
    return data.start_ms + day * DAY_MS + offset


def events(data: SandboxData, a: int, j: int) -> list[tuple[int, dict]]:
    """[(instant ms, the fields that change)] of one enrolment, in time order."""
    base = _base(data, a, j)
    h = _mix(data.seed, "v", a * 10_000_000 + j + 5_000_000)
    days = data.days
    status, out = base["status"], []
    if status in ("open", "overdue") and h % 3 == 0:
        first = (h >> 4) % max(days - 1, 1)
        done = _instant(data, first, h >> 12)
        out.append((done, {"status": "complete", "lastCompletedAt": _iso(done)}))
        again = first + 3 + (h >> 20) % 4
        if (h >> 24) % 2 == 0 and again < days:  # recertification: a new cycle, due one completion period later
            reopened = _instant(data, again, h >> 28)
            period = int(data.assignment(a)["completionPeriod"])
            out.append((reopened, {"status": "open", "availableDate": _iso(reopened), "dueDate": _iso(reopened + period * DAY_MS)}))
    elif status == "open" and data.start_ms <= parse_timestamp(base["dueDate"]) < data.end_ms:
        due = parse_timestamp(base["dueDate"])
        out.append((due, {"status": "overdue"}))
    elif status == "complete" and h % 5 == 0:
        out.append((_instant(data, (h >> 4) % days, h >> 12), {"status": "archived"}))
    return out


def enrolment_at(data: SandboxData, a: int, j: int, now_ms: int) -> dict:
    """The enrolment as the API serves it at `now_ms`."""
    record = _base(data, a, j)
    for instant, changes in events(data, a, j):
        if instant <= now_ms:
            record = {**record, **changes, "updatedAt": _iso(instant)}
    return record


def deleted_assignment(data: SandboxData) -> tuple[int, int]:
    """(the assignment deleted during the period, when): the first, half-way, at noon."""
    return 0, data.start_ms + data.days // 2 * DAY_MS + DAY_MS // 2


def assignment_at(data: SandboxData, a: int, now_ms: int) -> dict:
    record = data.assignment(a)
    gone, when = deleted_assignment(data)
    if a == gone and now_ms >= when:
        record = {**record, "isDeleted": True, "deletedAt": _iso(when), "updatedAt": _iso(when)}
    return record
