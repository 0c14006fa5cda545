"""`python -m lms_assets.check_connection`: ask the configured LMS API a few questions before a backfill.

One request per endpoint with the same config the loads use (`sources.lms.*` from .dlt/ or the
environment), then two probes of the activity bounds on a known timestamp. It reports what it
found — credentials accepted, the fields each endpoint sends (and which of them the API
documents), whether the answers carry totals, whether the timestamp format is accepted, and how
the API reads `timestampFrom`/`timestampTo` — and exits 1 when something must be fixed first.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from typing import Optional

import dlt
import orjson
import requests

from lms_assets.sources.lms import settings
from lms_assets.sources.lms.auth import OAUTH_HINT, make_auth, region_base_url
from lms_assets.sources.lms.errors import CREDENTIALS_HINT, LmsError, for_section
from lms_assets.sources.lms.responses import api_message, records_in
from lms_assets.sources.lms.session import make_session
from lms_assets.sources.lms.timestamps import parse_start_date
from lms_assets.tenant.config import ensure_project_config

ENDPOINTS = (("content", settings.CONTENTS_PATH, settings.CONTENT_FIELDS),
             ("users", settings.USERS_PATH, settings.USERS_FIELDS),
             ("activities", settings.ACTIVITIES_PATH, settings.ACTIVITIES_FIELDS))
# Asked once each too: their answers' shape (an envelope, or a bare array for assignments) and fields.
MORE_ENDPOINTS = (("audiences", settings.AUDIENCES_PATH, settings.AUDIENCE_FIELDS),
                  ("assignments", settings.ASSIGNMENTS_PATH, settings.ASSIGNMENT_FIELDS))
SAMPLE = 50  # records asked per endpoint: enough to see optional fields, cheap for any API


class Check:
    def __init__(self, base_url: str, auth_of, timestamp_format: str, timeout: float, hint: str = CREDENTIALS_HINT,
                 section: str = "lms"):
        self.section = section  # the tenant's config section, named in every hint
        self.base_url = base_url.rstrip("/")
        self.fmt = timestamp_format
        self.session = make_session(max_attempts=3, backoff_factor=0.5, max_retry_delay=5, timeout=timeout)
        self.session.auth = auth_of(self.session)  # basic auth, or an OAuth token fetched with the same session
        self.hint = hint
        self.problems: list[str] = []

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(f"{self.base_url}/{path}", params=params)

    def say(self, line: str) -> None:
        print(for_section(line, self.section), flush=True)

    def fail(self, line: str) -> None:
        self.problems.append(line)
        self.say(f"  PROBLEM: {line}")

    def endpoint(self, name: str, path: str, documented: dict, **params) -> Optional[list[dict]]:
        try:
            response = self.get(path, perPage=SAMPLE, page=1, **params)
        except LmsError as exc:  # the token endpoint refused the client, or could not be reached
            self.fail(f"{name}: {exc}")
            return None
        except requests.RequestException as exc:
            self.fail(f"{name}: could not reach {self.base_url}/{path} ({type(exc).__name__}); check sources.lms.base_url")
            return None
        said = api_message(response)
        quoted = f" ({said!r})" if said else ""
        if response.status_code in (401, 403):
            self.fail(f"{name}: HTTP {response.status_code}{quoted}: {self.hint}")
            return None
        if response.status_code != 200:
            hint = (f"; the bounds were written with sources.lms.timestamp_format {self.fmt!r}: try "
                    f"{settings.DOCUMENTED_TIMESTAMP_FORMAT!r}") if response.status_code == 400 and params else ""
            self.fail(f"{name}: HTTP {response.status_code}{quoted} for GET {response.url}{hint}")
            return None
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        found = records_in(body)
        if found is None:
            self.fail(f"{name}: the answer is neither a JSON object with a 'results' list nor a JSON array; "
                      "check sources.lms.base_url")
            return None
        shape, records = found
        paging = body.get(settings.PAGINATION_KEY) if isinstance(body, dict) else None
        totals = (f"totals present (totalResults {paging.get('totalResults')}, totalPages {paging.get('totalPages')})"
                  if isinstance(paging, dict) and "totalPages" in paging else "no totals (each listing ends on an empty page)")
        seen = sorted({k for r in records if isinstance(r, dict) for k in r})
        extra = [f for f in seen if f not in documented]
        missing = [f for f in documented if f not in seen and f != "contentType"]
        self.say(f"  {name}: HTTP 200 in {response.elapsed.total_seconds() * 1000:.0f} ms, {len(records)} records "
                 f"on page 1 in {shape}, {totals}")
        self.say(f"    fields seen: {', '.join(seen) or '(no records)'}")
        if records and extra:
            self.say(f"    not in the API's documentation (they land as columns of their own): {', '.join(extra)}")
        if records and missing:
            self.say(f"    documented but not in this sample (their columns stay null): {', '.join(missing)}")
        return records

    def probe_bounds(self, records: list[dict]) -> None:
        """Ask for a whole-second activity with the window starting, then ending, exactly at its timestamp."""
        for record in records:
            try:
                at = datetime.fromisoformat(str(record.get("date")))
            except ValueError:
                continue
            at = at.replace(tzinfo=at.tzinfo or timezone.utc).astimezone(timezone.utc)
            if at.microsecond == 0:
                break
        else:
            self.say("  bounds: not probed (no activity on a whole second in the sample); loads ask a second "
                     "wider on both sides and trim, which is exact under either reading")
            return
        day = timedelta(days=1)
        readings = []
        for bound, lo, hi in (("timestampFrom", at, at + day), ("timestampTo", at - day, at)):
            response = self.get(settings.ACTIVITIES_PATH, perPage=settings.MAX_PER_PAGE, page=1,
                                **{settings.WINDOW_FROM_PARAM: lo.strftime(self.fmt), settings.WINDOW_TO_PARAM: hi.strftime(self.fmt)})
            if response.status_code != 200:
                self.say(f"  bounds: probe answered HTTP {response.status_code}; not probed")
                return
            ids = {r.get("id") for r in orjson.loads(response.content).get(settings.DATA_SELECTOR, [])}
            readings.append(f"{bound} {'inclusive' if record.get('id') in ids else 'exclusive'}")
        self.say(f"  bounds (probed on activity {record.get('id')} at {at.isoformat()}): {', '.join(readings)}; "
                 "loads are exact either way")


def configuration_problems(section: str, keys: dict, base_url: Optional[str]) -> list[str]:
    """Every setting a load would refuse, as its sentence: credentials, base URL, start date, then the source's own."""
    from lms_assets.tenant.ingestion.errors import describe
    from lms_assets.tenant.tenant import Tenant

    problems: list[str] = []

    def attempt(check) -> None:
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a setting's error, said in its sentence; anything else as it is
            said = describe(exc, section, section)
            sentence = said[0] if said else f"{type(exc).__name__}: {exc}"
            if sentence not in problems:
                problems.append(sentence)

    attempt(lambda: make_auth(keys["auth"], None, *(keys[k] for k in ("username", "password", "client_id", "client_secret",
                                                                      "tenant_id", "region", "token_url"))))
    if not base_url and not keys["region"]:
        problems.append(f"sources.{section}.base_url is not set: set SOURCES__{section.upper()}__BASE_URL "
                        f"(or sources.{section}.region).")
    attempt(lambda: parse_start_date(dlt.config.get(f"sources.{section}.start_date") or "2024-01-01"))
    if not problems:  # the source's own checks (per_page, concurrency, personal data, ...) stop at their first
        attempt(lambda: Tenant(prefix=section, dataset=section, config_section=section).source())
    return problems


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lms_assets.check_connection", description=__doc__)
    parser.add_argument("--days", type=int, default=7, help="activity window to sample: the first N days from start_date")
    parser.add_argument("--section", default="lms", help="the tenant's dlt config section, sources.<section> (default lms)")
    args = parser.parse_args(argv)
    ensure_project_config()
    section = args.section
    base_url = dlt.config.get(f"sources.{section}.base_url")
    keys = {k: dlt.secrets.get(f"sources.{section}.{k}") for k in ("username", "password", "client_id", "client_secret")}
    keys.update({k: dlt.config.get(f"sources.{section}.{k}") for k in ("auth", "tenant_id", "region", "token_url")})
    problems = configuration_problems(section, keys, base_url)
    if problems:  # the same sentences a load would fail with, each on a line of its own
        for problem in problems:
            print(f"  PROBLEM: {for_section(problem, section)}")
        print(f"{len(problems)} problem(s) to fix in the configuration of sources.{section} before anything is asked of the API.")
        return 1
    if keys["region"]:
        base_url = region_base_url(keys["region"])
    fmt = str(dlt.config.get(f"sources.{section}.timestamp_format") or settings.DEFAULT_TIMESTAMP_FORMAT)
    timeout = float(dlt.config.get(f"sources.{section}.request_timeout") or 30)
    oauth = str(keys["auth"] or "basic").strip().lower() == "oauth2"

    def auth_of(session):
        return make_auth(keys["auth"], session, *(keys[k] for k in ("username", "password", "client_id", "client_secret",
                                                                    "tenant_id", "region", "token_url")))

    check = Check(str(base_url), auth_of, fmt, timeout, OAUTH_HINT if oauth else CREDENTIALS_HINT, section)
    who = f"OAuth client {keys['client_id']!r}" if oauth else f"user {keys['username']!r}"
    check.say(f"LMS API at {check.base_url} ({who}, timestamp format {fmt!r})")
    for name, path, documented in ENDPOINTS[:2]:
        check.endpoint(name, path, documented)
    start = parse_start_date(dlt.config.get(f"sources.{section}.start_date") or "2024-01-01")
    window = {settings.WINDOW_FROM_PARAM: start.strftime(fmt),
              settings.WINDOW_TO_PARAM: (start + timedelta(days=args.days)).strftime(fmt)}
    records = check.endpoint("activities", settings.ACTIVITIES_PATH, settings.ACTIVITIES_FIELDS, **window)
    if records:
        check.probe_bounds(records)
    elif records == []:
        check.say(f"  bounds: not probed (no activity in the first {args.days} days from start_date)")
    for name, path, documented in MORE_ENDPOINTS:
        check.endpoint(name, path, documented)
    if check.problems:
        check.say(f"{len(check.problems)} problem(s) to fix before a backfill.")
        return 1
    check.say("ready: credentials accepted, every endpoint answered.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
