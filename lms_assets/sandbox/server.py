"""An HTTP stand-in for the LMS API, with the API's faults.

Plain `http.server` keeps the sandbox dependency-free; HTTP/1.1 keep-alive and orjson keep it
well ahead of any client (a page of 200 activities is built and sent in well under a
millisecond), so benchmarks measure the client, not the stand-in.
"""

from __future__ import annotations

import base64
import hmac
import json
import random
import re
import secrets
import threading
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson

from lms_assets.sandbox import evolving
from lms_assets.sandbox.data import STRICT_TIMESTAMP, SandboxData, parse_timestamp

MAX_PER_PAGE = 1000  # the API accepts perPage 1..1000
HTML_ERROR = b"<html><head><title>{code}</title></head><body><h1>Service unavailable</h1></body></html>"


@dataclass
class SandboxOptions:
    """How the sandbox behaves, beyond the data it serves."""

    username: str = "sandbox"
    password: str = "sandbox-password"
    fault_rate: float = 0.0
    retry_after: tuple[int, ...] = (0, 1)
    latency_ms: float = 0.0
    # A delay on the way in, drawn per request from [0, this): requests arrive in another order, and
    # later, than they were sent (a network's jitter), as the rate limit counts arrivals.
    arrival_jitter_ms: float = 0.0
    totals: bool = True
    fail_paths: tuple[str, ...] = ()  # paths that always answer 503, to prove a run gives up
    fault_statuses: tuple[int, ...] = (429, 429, 500, 502, 503, 504)
    seed: int = 42
    # Bad answers of a real API, for the conformance tests: one of BREAK_MODES, served on
    # page `break_page` of `break_path` listings (every listing when None).
    break_mode: str | None = None
    break_page: int = 2
    break_path: str | None = None
    # Records the API no longer lists (deleted upstream), by id.
    hidden_ids: frozenset[str] = frozenset()
    # Encoded pages kept for repeated requests (benchmark repeats), least recently used out.
    page_cache_mib: int = 512
    # How list answers are written: "compact" (no spaces, UTF-8) or "spaced" as Python's json.dumps
    # writes JSON (`", "` and `": "` between tokens, non-ASCII escaped as \uXXXX): the same values either way.
    json_style: str = "compact"
    # The API documents timestampFrom/timestampTo as "after"/"before": serve either reading.
    bounds: str = "inclusive"
    # Refuse bounds not written as the documented `YYYY-MM-DD hh:mm:ss` (HTTP 400).
    strict_timestamps: bool = False
    # Records inserted while a listing is read: one before page 2 of a listing is served, up
    # to this many per endpoint. The new record lands at the front and pushes one onto the next page.
    drift: int = 0
    # Records deleted while a listing is read: the first record of the users or contents listing disappears
    # before its page 2 is served, up to this many per endpoint (the listing shifts up by one).
    vanish: int = 0
    # The API's rate limit: requests beyond this many in the last second get a 429 with Retry-After.
    rate_limit: float | None = None
    # An outage of the activities endpoint: a window whose upper bound reaches past this instant
    # (ISO 8601) answers 503, as an API down for maintenance part-way through a backfill would.
    outage_after: str | None = None
    # OAuth 2.0 client credentials (POST /oauth2/token/<tenant_id>), beside basic auth.
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-client-secret"
    tenant_id: str = "sandbox-tenant"
    token_ttl: int = 3600  # the `expires_in` of a token, and how long it is accepted
    token_requests: int | None = None  # API requests a token serves before it answers 401 (revoked early)
    token_grants: int | None = None  # tokens the endpoint issues before it refuses the client (revoked)
    # Enrolments and assignments that change day by day, served as they stand at a settable clock (evolving.py).
    evolving: bool = False


BREAK_MODES = ("not-json", "no-results", "no-id", "no-date", "bad-date", "type-change", "new-field", "wrong-total",
               "object-in-text", "array-to-envelope")
# Listings the real API answers with a bare JSON array (no envelope, no totals), perPage <= 100.
ARRAY_LISTINGS = re.compile(r"^/v1/assignments(/[^/]+/enrolments)?$")
MAX_PER_PAGE_ARRAY = 100
API_PATHS = re.compile(r"^/v1/(contents|users|activities|audiences|audiences/[^/]+/members|assignments|"
                       r"assignments/[^/]+/enrolments|cpdEntries)$")
BOUNDS = ("inclusive", "exclusive")
REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass
class SandboxStats:
    """What the sandbox served, exposed at `/_sandbox/stats`."""

    by_status: Counter = field(default_factory=Counter)
    by_path: Counter = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    arrivals: list = field(default_factory=list)  # monotonic arrival time of every API request
    windows: list = field(default_factory=list)  # (timestampFrom, timestampTo) in epoch ms of every activities page served
    windows_at: list = field(default_factory=list)  # when each of `windows` was served (epoch seconds)
    tokens_issued: int = 0
    queries: list = field(default_factory=list)  # (path, query) of every listing request answered 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str, status: int) -> None:
        with self.lock:
            self.by_status[str(status)] += 1
            self.by_path[f"{path} {status}"] += 1

    def arrived(self) -> float:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            now = time.monotonic()
            self.arrivals.append(now)
            return now

    def served_window(self, bounds: tuple) -> None:
        with self.lock:
            self.windows.append(bounds)
            self.windows_at.append(time.time())

    def left(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def max_per_second(self) -> int:
        """The most requests that arrived within any one second."""
        with self.lock:
            times = sorted(self.arrivals)
        most, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            most = max(most, hi - lo + 1)
        return most

    def snapshot(self) -> dict:
        with self.lock:
            snap = {
                "requests": sum(self.by_status.values()),
                "by_status": dict(self.by_status),
                "by_path": dict(self.by_path),
                "max_in_flight": self.max_in_flight,
                "tokens_issued": self.tokens_issued,
            }
        snap["max_per_second"] = self.max_per_second()
        return snap

    def reset(self) -> None:
        with self.lock:
            self.by_status.clear()
            self.by_path.clear()
            self.max_in_flight = 0
            self.arrivals.clear()
            self.windows.clear()
            self.windows_at.clear()
            self.queries.clear()
            self.tokens_issued = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: without this, 40 ms delayed-ACK stalls
    server: "SandboxHTTPServer"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # a request log per page would drown the test output

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object, path: str, headers=None) -> None:
        self.server.stats.count(path, status)
        self._send(status, orjson.dumps(payload), headers=headers)

    def _error(self, status: int, message: str, path: str, headers=None) -> None:
        """An API error: JSON `{status, error, message}` as the real API documents it (seed: `{error}`)."""
        if self.server.data.realistic:
            payload = {"status": status, "error": REASONS.get(status, "Error"), "message": message}
        else:
            payload = {"error": message}
        self._json(status, payload, path, headers)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.server.accept_token(header[7:])
        if not header.startswith("Basic "):
            return False
        try:
            user, _, pwd = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        opts = self.server.options
        return hmac.compare_digest(user, opts.username) and hmac.compare_digest(pwd, opts.password)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/_sandbox/clock":  # --evolving: the instant whose state the API serves
            at = parse_qs(urlsplit(self.path).query).get("at", [""])[-1]
            self.server.clock_ms = parse_timestamp(at)
            self._send(200, orjson.dumps({"clock": at}))
        elif path == "/_sandbox/reset":
            self.server.stats.reset()
            self._send(200, b"{}")
        elif path == "/_sandbox/touch-enrolments":
            count = int(parse_qs(urlsplit(self.path).query).get("count", ["1"])[-1])
            self._send(200, orjson.dumps({"touched": self.server.touch_enrolments(count)}))
        elif path.startswith("/oauth2/token/"):
            self._token(path.rsplit("/", 1)[-1], body)
        else:
            self._send(404, b'{"error": "not found"}')

    def _token(self, tenant: str, body: bytes) -> None:
        """The client-credentials grant: the client's id and secret in a Basic header or in the form."""
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                pass
        srv, opts = self.server, self.server.options
        path = "/oauth2/token"
        if form.get("grant_type") != "client_credentials":
            self._json(400, {"error": "unsupported_grant_type", "message": "grant_type must be client_credentials"}, path)
            return
        valid = (hmac.compare_digest(tenant, opts.tenant_id) and hmac.compare_digest(client_id, opts.client_id)
                 and hmac.compare_digest(client_secret, opts.client_secret))
        token = srv.issue_token() if valid else None
        if token is None:
            self._json(401, {"error": "invalid_client", "message": "client authentication failed"}, path)
            return
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": opts.token_ttl}, path)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        srv = self.server
        if path == "/_sandbox/stats":
            self._send(200, orjson.dumps(srv.stats.snapshot()))
            return
        if path == "/_sandbox/health":
            self._send(200, b'{"ok": true}')
            return
        if not API_PATHS.match(path):
            self._error(404, f"no such endpoint {path}", path)
            return
        if srv.options.arrival_jitter_ms:
            time.sleep(srv.jitter.uniform(0, srv.options.arrival_jitter_ms) / 1000)
        arrived = srv.stats.arrived()
        try:
            self._api(url, path, arrived)
        finally:
            srv.stats.left()

    def _api(self, url, path: str, arrived: float) -> None:
        srv = self.server
        if srv.over_rate(arrived):
            if srv.data.realistic:
                self._error(429, "rate_limit_exceeded", path, {"Retry-After": "1"})
            else:
                srv.stats.count(path, 429)
                self._send(429, b'{"error": "rate limited"}', headers={"Retry-After": "1"})
            return
        if srv.options.latency_ms:
            time.sleep(srv.options.latency_ms / 1000)
        if not self._authorized():
            bearer = self.headers.get("Authorization", "").startswith("Bearer ")
            self._error(401, "the access token has expired" if bearer else "invalid tenant ID or API secret", path,
                        {"WWW-Authenticate": 'Bearer' if bearer else 'Basic realm="lms"'})
            return
        if path in srv.options.fail_paths:
            if srv.data.realistic:
                self._error(503, "the service is down for maintenance", path)
            else:
                srv.stats.count(path, 503)
                self._send(503, HTML_ERROR.replace(b"{code}", b"503"), "text/html")
            return
        fault = srv.draw_fault()
        if fault:
            self._fault(fault, path)
            return
        try:
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            page = int(query.get("page", "1"))
            per_page = int(query.get("perPage", "50"))
            array = bool(ARRAY_LISTINGS.match(path))
            most = MAX_PER_PAGE_ARRAY if array else MAX_PER_PAGE
            if page < 1 or not 1 <= per_page <= most:
                raise ValueError(f"page must be >= 1 and perPage in 1..{most}")
            bounds = None
            if path == "/v1/activities":
                lo, hi = (self._bound(query, name) for name in ("timestampFrom", "timestampTo"))
                bounds = (lo, hi)
                if srv.options.outage_after and (hi is None or hi > parse_timestamp(srv.options.outage_after)):
                    self._error(503, "the service is down for maintenance", path)
                    return
                listing = srv.data.activity_range(lo, hi, srv.options.bounds == "inclusive")
                make = srv.data.activity
            elif path == "/v1/users":
                listing, make = range(srv.data.users), srv.data.user
            elif path == "/v1/contents":
                listing, make = range(srv.data.contents), srv.data.content
            else:
                listing, make = srv.listing(path, {k: self._bound(query, k) for k in
                                                   ("entryDateFrom", "entryDateTo", "updatedAtFrom", "updatedAtTo")})
        except (ValueError, KeyError) as exc:
            self._error(400, str(exc), path)
            return
        if bounds is not None:
            srv.stats.served_window(bounds)
        with srv.stats.lock:
            srv.stats.queries.append((path, query))
        if page >= 2 and path in ("/v1/users", "/v1/contents", "/v1/activities"):
            srv.drift_once(path, bounds)
        if page >= 2 and path in ("/v1/users", "/v1/contents"):
            srv.vanish_once(path, listing, make)
        gone = srv.vanished.get(path)
        if gone:
            listing = [i for i in listing if make(i)["id"] not in gone]
        front = srv.inserted_for(path, bounds)
        mode = srv.options.break_mode
        # a wrong total is wrong on every page; the other bad answers come on one page
        on_page = page == srv.options.break_page or mode == "wrong-total"
        broken = mode and on_page and srv.options.break_path in (None, path)
        cache_key = (path, listing.start, listing.stop, page, per_page) if isinstance(listing, range) else None
        uncached = broken or srv.options.hidden_ids or srv.options.drift or srv.options.vanish
        cached = None if uncached else srv.cached_page(cache_key)
        if cached is not None:
            srv.stats.count(path, 200)
            self._send(200, cached)
            return
        if srv.options.hidden_ids and path not in ("/v1/activities", "/v1/cpdEntries") and not path.endswith("/enrolments"):
            listing = srv.visible(path, listing, make)
        total = len(front) + len(listing)
        lo_i, hi_i = (page - 1) * per_page, page * per_page
        records = front[lo_i:hi_i] + [make(i) for i in listing[max(lo_i - len(front), 0):max(hi_i - len(front), 0)]]
        body = srv.envelope(records, page, per_page, total)
        if broken:
            if mode == "not-json":
                srv.stats.count(path, 200)
                self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
                return
            body = _broken(mode, body)
        if array and not (broken and mode == "array-to-envelope") and isinstance(body, dict) and "results" in body:
            body = body["results"]  # a bare array: no envelope, no totals
        encoded = json.dumps(body).encode() if srv.options.json_style == "spaced" else orjson.dumps(body)
        if not uncached:
            srv.cache_page(cache_key, encoded)
        srv.stats.count(path, 200)
        self._send(200, encoded)

    def _bound(self, query: dict, name: str) -> int | None:
        value = query.get(name)
        if value is None:
            return None
        if self.server.options.strict_timestamps and not STRICT_TIMESTAMP.match(value):
            raise ValueError(f"{name} must be a date formatted as YYYY-MM-DD hh:mm:ss, got '{value}'")
        try:
            return parse_timestamp(value)
        except ValueError:
            raise ValueError(f"{name} is not a valid timestamp: '{value}'") from None

    def _fault(self, status: int, path: str) -> None:
        srv = self.server
        headers = {"Retry-After": str(srv.rng_choice(srv.options.retry_after))} if status == 429 else None
        if status in (502, 504) or (status == 503 and not srv.data.realistic):
            # a gateway in front of the API answers in HTML, whatever the API speaks
            srv.stats.count(path, status)
            self._send(status, HTML_ERROR.replace(b"{code}", str(status).encode()), "text/html")
        elif srv.data.realistic:
            self._error(status, "rate_limit_exceeded" if status == 429 else "an unexpected error occurred", path, headers)
        else:
            srv.stats.count(path, status)
            self._send(status, b'{"error": "rate limited"}' if status == 429 else b'{"error": "internal error"}',
                       headers=headers)


def _broken(mode: str, body: dict) -> dict:
    records = body["results"]
    if mode == "no-results":
        return {"data": records}
    if mode == "wrong-total":  # a total that disagrees with the records the listing holds
        if "pagination" in body:
            body["pagination"]["totalResults"] += 1
        elif "total" in body:
            body["total"] += 1
        return body
    if not records:
        return body
    if mode == "no-id":
        records[0].pop("id", None)
    elif mode == "no-date":
        records[0].pop("date", None)
    elif mode == "bad-date":
        records[0]["date"] = "last tuesday"
    elif mode == "type-change":
        # a timestamp field that turns into free text on this page
        for r in records:
            if "createdAt" in r:
                r["createdAt"] = "sometime in 2023"
    elif mode == "object-in-text":
        # a documented text field that turns into an object on this page
        for r in records:
            for name in ("email", "title") if "type" not in r or "date" not in r else ("type",):
                if name in r:
                    r[name] = {"value": r[name]}
    elif mode == "new-field":
        for r in records:
            r["timezone"] = "Europe/Berlin"
    return body


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], data: SandboxData, options: SandboxOptions):
        super().__init__(address, _Handler)
        self.data = data
        self.options = options
        self.stats = SandboxStats()
        self._rng = random.Random(options.seed)
        self._rng_lock = threading.Lock()
        self._visible: dict[str, list[int]] = {}
        self._cache: OrderedDict = OrderedDict()
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()
        self.inserted: dict[str, list[tuple[int | None, dict]]] = {}  # (instant, record) added by --drift
        self._window: deque[float] = deque()  # arrivals of the last second, for --rate-limit
        self.jitter = random.Random(self.options.seed)
        self._window_lock = threading.Lock()
        self._drift_lock = threading.Lock()
        self._token_lock = threading.Lock()
        self.tokens: dict[str, list] = {}  # token -> [expires at (monotonic), requests left or None]
        self.touched: dict[tuple[int, int], dict] = {}  # (assignment, user) -> enrolment updated by touch_enrolments
        self.vanished: dict[str, set[str]] = {}  # path -> ids deleted by --vanish
        self._stamps: dict = {}  # assignment (or (assignment, clock) when evolving) -> {user: updatedAt in epoch ms}
        self.clock_ms = self.data.start_ms  # --evolving: the instant whose state the API serves
        self._parents: dict[str, dict[str, int]] = {}  # "audiences" / "assignments" -> {id: index}

    def listing(self, path: str, bounds: dict):
        """(indexes, record maker) of the listings beside content, users and activities."""
        data, parts = self.data, path.strip("/").split("/")
        if path == "/v1/audiences":
            return range(data.audiences), data.audience
        if path == "/v1/assignments":
            if self.options.evolving:
                return range(data.assignments), lambda a: evolving.assignment_at(data, a, self.clock_ms)
            return range(data.assignments), data.assignment
        if path == "/v1/cpdEntries":
            inclusive = self.options.bounds == "inclusive"
            return data.activity_range(bounds["entryDateFrom"], bounds["entryDateTo"], inclusive, data.cpd_ms), data.cpd_entry
        parent = parts[2]
        if parts[1] == "audiences":
            k = self._index("audiences", parent, data.audiences, data.audience_id)
            return data.members[k], lambda j: data.member(k, j)
        a = self._index("assignments", parent, data.assignments, data.assignment_id)

        def make(j: int) -> dict:
            if self.options.evolving:
                return evolving.enrolment_at(data, a, j, self.clock_ms)
            return self.touched.get((a, j)) or data.enrolment(a, j)

        lo, hi = bounds["updatedAtFrom"], bounds["updatedAtTo"]
        inclusive = self.options.bounds == "inclusive"

        def inside(ms: int) -> bool:
            above = lo is None or (ms >= lo if inclusive else ms > lo)
            return above and (hi is None or (ms <= hi if inclusive else ms < hi))

        with self._drift_lock:
            key = (a, self.clock_ms) if self.options.evolving else a  # evolving: the stamps of the clock served
            stamps = self._stamps.get(key)
            if stamps is None:  # each enrolment's updatedAt, computed once (touch_enrolments updates them)
                stamps = self._stamps[key] = {j: parse_timestamp(make(j)["updatedAt"]) for j in data.enrolments_of(a)}
            return [j for j, ms in stamps.items() if inside(ms)], make

    def _index(self, kind: str, parent: str, count: int, make_id) -> int:
        ids = self._parents.get(kind)
        if ids is None:
            ids = self._parents[kind] = {make_id(i): i for i in range(count)}
        if parent not in ids:
            raise KeyError(f"no such parent {parent}")
        return ids[parent]

    def touch_enrolments(self, count: int) -> list[str]:
        """Mark `count` open or overdue enrolments complete, updated now: what a next incremental read must find."""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        done = []
        with self._drift_lock:
            for a in range(self.data.assignments - 1):  # the last assignment is the deleted one
                for j in self.data.enrolments_of(a):
                    record = self.touched.get((a, j)) or self.data.enrolment(a, j)
                    if len(done) < count and record["status"] in ("open", "overdue"):
                        self.touched[(a, j)] = {**record, "status": "complete", "lastCompletedAt": stamp, "updatedAt": stamp}
                        self._stamps.pop(a, None)
                        done.append(record["id"])
        return done

    def issue_token(self) -> str | None:
        with self._token_lock:
            grants = self.options.token_grants
            if grants is not None and self.stats.tokens_issued >= grants:
                return None
            token = secrets.token_urlsafe(24)
            self.tokens[token] = [time.monotonic() + self.options.token_ttl, self.options.token_requests]
            self.stats.tokens_issued += 1
            return token

    def accept_token(self, token: str) -> bool:
        """A bearer token is good until its ttl passes or it has served `token_requests` requests."""
        with self._token_lock:
            entry = self.tokens.get(token)
            if entry is None or time.monotonic() >= entry[0]:
                return False
            if entry[1] is not None:
                if entry[1] <= 0:
                    return False
                entry[1] -= 1
            return True

    def over_rate(self, arrived: float) -> bool:
        """Whether this arrival is one more than `rate_limit` within the last second (it counts either way)."""
        limit = self.options.rate_limit
        if not limit:
            return False
        with self._window_lock:
            while self._window and arrived - self._window[0] >= 1.0:
                self._window.popleft()
            self._window.append(arrived)
            return len(self._window) > limit

    def envelope(self, records: list[dict], page: int, per_page: int, total: int) -> dict:
        """A list answer: the real API's `pagination` object, or the seed's flat totals."""
        body: dict = {"results": records}
        if not self.options.totals:
            return body
        if self.data.realistic:
            pages = -(-total // per_page)
            body = {"pagination": {"totalResults": total, "totalPages": pages, "page": page, "perPage": per_page},
                    "results": records}
        else:
            body.update(page=page, perPage=per_page, total=total)
        return body

    def drift_once(self, path: str, bounds) -> None:
        """Insert one new record into `path`'s listing (at most `drift` per endpoint)."""
        with self._drift_lock:
            done = self.inserted.setdefault(path, [])
            if len(done) >= self.options.drift:
                return
            k = len(done)
            data = self.data
            if path == "/v1/users":
                done.append((None, data.user(data.users + k)))
            elif path == "/v1/contents":
                done.append((None, data.content(data.contents + k)))
            else:
                lo, hi = bounds
                lo = data.start_ms if lo is None else lo
                hi = data.end_ms if hi is None else hi
                # just after the lower bound: earlier than every record already served
                ms = min(lo + 1500, (lo + hi) // 2)
                done.append((ms, data.activity(data.activities + k, ms=ms)))

    def vanish_once(self, path: str, listing, make) -> None:
        """Delete the first record still listed at `path` (at most `vanish` per endpoint)."""
        with self._drift_lock:
            gone = self.vanished.setdefault(path, set())
            if len(gone) < self.options.vanish:
                first = next((i for i in listing if make(i)["id"] not in gone), None)
                if first is not None:
                    gone.add(make(first)["id"])

    def inserted_for(self, path: str, bounds) -> list[dict]:
        """Inserted records that belong to this request's listing, newest first."""
        with self._drift_lock:
            inserted = list(reversed(self.inserted.get(path, [])))
        if path != "/v1/activities":
            return [r for _, r in inserted]
        lo, hi = bounds
        inclusive = self.options.bounds == "inclusive"

        def inside(ms: int) -> bool:
            above = lo is None or (ms >= lo if inclusive else ms > lo)
            below = hi is None or (ms <= hi if inclusive else ms < hi)
            return above and below

        return [r for ms, r in inserted if inside(ms)]

    def draw_fault(self) -> int | None:
        if self.options.fault_rate <= 0:
            return None
        with self._rng_lock:
            if self._rng.random() >= self.options.fault_rate:
                return None
            return self._rng.choice(self.options.fault_statuses)

    def cached_page(self, key) -> bytes | None:
        if key is None or self.options.evolving:  # the same page changes with the clock
            return None
        with self._cache_lock:
            body = self._cache.get(key)
            if body is not None:
                self._cache.move_to_end(key)
            return body

    def cache_page(self, key, body: bytes) -> None:
        limit = self.options.page_cache_mib * 2**20
        if key is None or len(body) > limit or self.options.evolving:
            return
        with self._cache_lock:
            self._cache[key] = body
            self._cache_bytes += len(body)
            while self._cache_bytes > limit:
                _, old = self._cache.popitem(last=False)
                self._cache_bytes -= len(old)

    def visible(self, path: str, listing: range, make) -> list[int]:
        """The listing without hidden records (cached: hidden ids do not change while serving)."""
        cached = self._visible.get(path)
        if cached is None:
            hidden = self.options.hidden_ids  # a member is hidden by its userId (it has no id of its own)
            cached = self._visible[path] = [i for i in listing if (make(i).get("id") or make(i).get("userId")) not in hidden]
        return cached

    def rng_choice(self, values):
        with self._rng_lock:
            return self._rng.choice(values)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Sandbox:
    """A sandbox served from a background thread; for tests that need one in-process."""

    def __init__(self, data: SandboxData | None = None, options: SandboxOptions | None = None,
                 host: str = "127.0.0.1", port: int = 0):
        self.server = SandboxHTTPServer((host, port), data or SandboxData(), options or SandboxOptions())
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def data(self) -> SandboxData:
        return self.server.data

    @property
    def options(self) -> SandboxOptions:
        return self.server.options

    @property
    def stats(self) -> SandboxStats:
        return self.server.stats

    def __enter__(self) -> "Sandbox":
        _ = self.server.data.activity_ms  # generate before the first request, not during it
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
