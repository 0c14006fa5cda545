"""`python -m lms_assets.sandbox`: serve the sandbox LMS API until interrupted."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import date

from lms_assets.sandbox.data import PROFILES, SandboxData
from lms_assets.sandbox.server import BOUNDS, BREAK_MODES, SandboxHTTPServer, SandboxOptions


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lms_assets.sandbox", description=__doc__)
    p.add_argument("--profile", choices=PROFILES, default="realistic",
                   help="record shapes: the real API's documented ones (realistic) or the seed sketch's (seed)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--users", type=int, default=2_000)
    p.add_argument("--contents", type=int, default=500)
    p.add_argument("--activities", type=int, default=20_000)
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1),
                   help="first day of activity (UTC), YYYY-MM-DD")
    p.add_argument("--days", type=int, default=30, help="days of activity from --start")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--audiences", type=int, default=8, help="audiences (two structures, the rest audiences)")
    p.add_argument("--assignments", type=int, default=12, help="assignments (the last one flagged deleted)")
    p.add_argument("--cpd-per-day", type=int, default=20, help="CPD entries per day of --days")
    p.add_argument("--username", default="sandbox")
    p.add_argument("--password", default=os.environ.get("LMS_SANDBOX_PASSWORD", "sandbox-password"),
                   help="default: $LMS_SANDBOX_PASSWORD or 'sandbox-password'")
    p.add_argument("--tenant-id", default="sandbox-tenant", help="OAuth: the tenant of POST /oauth2/token/<tenant id>")
    p.add_argument("--client-id", default="sandbox-client", help="OAuth: the client id")
    p.add_argument("--client-secret", default=os.environ.get("LMS_SANDBOX_CLIENT_SECRET", "sandbox-client-secret"),
                   help="OAuth: the client secret (default: $LMS_SANDBOX_CLIENT_SECRET or 'sandbox-client-secret')")
    p.add_argument("--token-ttl", type=int, default=3600, help="OAuth: a token's expires_in, in seconds")
    p.add_argument("--token-requests", type=int, default=None,
                   help="OAuth: requests a token serves before it answers 401 (a token revoked early)")
    p.add_argument("--token-grants", type=int, default=None,
                   help="OAuth: tokens issued before the endpoint refuses the client (a client revoked)")
    p.add_argument("--evolving", action="store_true",
                   help="enrolments and assignments change day by day; POST /_sandbox/clock?at=ISO sets the instant served")
    p.add_argument("--fault-rate", type=float, default=0.0, help="share of API requests that fail (0..1)")
    p.add_argument("--retry-after", default="0,1", help="Retry-After seconds for 429s, comma separated")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--arrival-jitter-ms", type=float, default=0.0,
                   help="a delay on the way in, drawn per request from [0, this): arrivals reordered and late")
    p.add_argument("--no-totals", action="store_true", help="omit the pagination totals from list answers")
    p.add_argument("--bounds", choices=BOUNDS, default="inclusive",
                   help="how timestampFrom/timestampTo are read: from <= date <= to, or from < date < to")
    p.add_argument("--strict-timestamps", action="store_true",
                   help="answer 400 to bounds not written YYYY-MM-DD hh:mm:ss")
    p.add_argument("--rate-limit", type=float, default=None,
                   help="requests per second the API accepts; more get 429 with Retry-After: 1")
    p.add_argument("--drift", type=int, default=0,
                   help="insert a record before page 2 of a listing is served, up to N per endpoint")
    p.add_argument("--vanish", type=int, default=0,
                   help="delete the first user or content record before page 2 of its listing is served, up to N per endpoint")
    p.add_argument("--outage-after", help="activity windows reaching past this ISO instant answer 503 (an outage mid-backfill)")
    p.add_argument("--fail-path", action="append", default=[], help="a path that always answers 503")
    p.add_argument("--page-cache-mib", type=int, default=512, help="encoded pages kept for repeated requests")
    p.add_argument("--json-style", choices=("compact", "spaced"), default="compact",
                   help="list answers written compact, or spaced and ASCII-escaped as Python's json.dumps writes them")
    p.add_argument("--break-mode", choices=BREAK_MODES, help="serve a bad answer on --break-page")
    p.add_argument("--break-page", type=int, default=2)
    p.add_argument("--break-path", help="only this listing breaks (default: every listing)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    data = SandboxData(seed=args.seed, users=args.users, contents=args.contents,
                       activities=args.activities, start=args.start, days=args.days, profile=args.profile,
                       audiences=args.audiences, assignments=args.assignments, cpd_per_day=args.cpd_per_day)
    options = SandboxOptions(
        username=args.username, password=args.password, fault_rate=args.fault_rate,
        retry_after=tuple(int(x) for x in args.retry_after.split(",") if x),
        latency_ms=args.latency_ms, arrival_jitter_ms=args.arrival_jitter_ms, totals=not args.no_totals, fail_paths=tuple(args.fail_path),
        seed=args.seed, break_mode=args.break_mode, break_page=args.break_page, break_path=args.break_path,
        page_cache_mib=args.page_cache_mib, json_style=args.json_style, bounds=args.bounds, strict_timestamps=args.strict_timestamps,
        drift=args.drift, vanish=args.vanish, rate_limit=args.rate_limit, outage_after=args.outage_after,
        tenant_id=args.tenant_id, client_id=args.client_id, client_secret=args.client_secret, token_ttl=args.token_ttl,
        token_requests=args.token_requests, token_grants=args.token_grants, evolving=args.evolving,
    )
    _ = data.activity_ms
    server = SandboxHTTPServer((args.host, args.port), data, options)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"sandbox LMS API ({data.profile} profile, {options.bounds} bounds) on {server.base_url} ({data.users} users, {data.contents} contents, "
          f"{data.activities} activities from {data.start} for {data.days} days, "
          f"fault rate {options.fault_rate})", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
