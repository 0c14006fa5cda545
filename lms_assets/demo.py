"""`make demo`: the main job on the embedded defaults, through Dagster.

Starts the sandbox API (its evolving mode, with its default fault rate), materializes content, users
and the assignment listings, a 30-day range of activities, CPD entries and the daily model in one run,
the summaries and the history, the assignment listings again three days later by the sandbox's clock,
the compliance report and three days of daily compliance from the history, with their checks, into
DuckDB; then prints row counts, the top users and compliance by audience. Runs land in DAGSTER_HOME, so `make dev` shows them afterwards.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta

import requests
from dagster import DagsterInstance

from lms_assets.sandbox.process import sandbox_process
from lms_assets.tenant.keys import ASSIGNMENT_RESOURCES, COMPLIANCE_MODELS, HISTORY
from lms_assets.tenant.models.queries import query
from lms_assets.tenant.partition_ranges import range_tags
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import Warehouse

SANDBOX_USER, SANDBOX_PASSWORD = "sandbox", "sandbox-password"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
DEMO = Tenant()  # the first tenant, lms_assets/defs/lms/defs.yaml: keys lms/..., dataset lms


def _keys(*names: str) -> list:
    return [DEMO.key(n) for n in names]


def _clock(base_url: str, day: date) -> None:
    """The evolving sandbox serves enrolments and assignments as they stand at the end of `day`."""
    requests.post(f"{base_url}/_sandbox/clock", params={"at": f"{day.isoformat()}T23:59:59Z"}, timeout=10).raise_for_status()


def run(days: int, base_url: str) -> None:
    from lms_assets.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    instance = DagsterInstance.get()
    first = date.fromisoformat(os.environ["SOURCES__LMS__START_DATE"])
    last = first + timedelta(days=days - 1)
    ranged = range_tags(first.isoformat(), last.isoformat())
    # The assignments are loaded twice, three days apart, so the history holds a few days of changes to report.
    _clock(base_url, last - timedelta(days=3))
    history_from = last - timedelta(days=2)
    steps = [
        ("content, users and the assignment listings", _keys("content", "users", *ASSIGNMENT_RESOURCES), {}),
        (f"activities, cpd_entries, user_activity_daily {first}...{last}", _keys("activities", "cpd_entries", "user_activity_daily"),
         ranged),
        ("user_activity_summary, content_engagement, history", _keys("user_activity_summary", "content_engagement", *HISTORY), {}),
        (f"the assignment listings again, at {last}'s end", _keys(*ASSIGNMENT_RESOURCES), {"clock": last}),
        ("assignment_compliance, roll-ups and history", _keys(*COMPLIANCE_MODELS, *HISTORY), {}),
        (f"assignment_compliance_daily {history_from}...{last}", _keys("assignment_compliance_daily"),
         range_tags(history_from.isoformat(), last.isoformat())),
    ]
    for label, keys, tags in steps:
        if "clock" in tags:
            _clock(base_url, tags.pop("clock"))
        started = time.monotonic()
        result = job.execute_in_process(instance=instance, asset_selection=keys, tags=tags, raise_on_error=False,
                                        run_config=QUIET)
        status = "ok" if result.success else "FAILED"
        print(f"  {label:<40} {status} in {time.monotonic() - started:5.1f} s  (run {result.run_id[:8]})", flush=True)
        if not result.success:
            raise SystemExit(f"demo: materializing {label} failed; see the run {result.run_id} in `make dev`.")
    with Warehouse.from_env().sql_client() as client:
        print("\nrow counts in dataset lms:")
        for table in ("content", "users", "activities", "user_activity_daily", "user_activity_summary", "content_engagement",
                      "audiences", "audience_members", "assignments", "enrolments", "cpd_entries", "assignment_compliance",
                      "enrolments_history", "assignment_compliance_daily"):
            print(f"  {table:<24} {client.execute_sql(f'SELECT COUNT(*) FROM lms.{table}')[0][0]:>8}")
        print("\ntop users by activity:")
        for row in client.execute_sql(query(client, "top_users", limit=5)):
            print("  {:<24} {:<36} {:>4} activities on {:>3} days, last: {}".format(*row))
        print("\nassignment compliance by audience (enrolled, complete, open, overdue, scheduled):")
        for row in client.execute_sql(query(client, "compliance_by_audience")):
            print("  {:<24} {:>6} {:>6} {:>6} {:>6} {:>6}".format(*row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--activities", type=int, default=20_000)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--profile", default="realistic", help="the sandbox's record shapes (realistic or seed)")
    args = parser.parse_args()
    start = os.environ.setdefault("SOURCES__LMS__START_DATE", "2024-01-01")
    with sandbox_process("--activities", str(args.activities), "--start", start, "--days", str(args.days),
                         "--fault-rate", str(args.fault_rate), "--password", SANDBOX_PASSWORD,
                         "--profile", args.profile, "--evolving") as base_url:
        # The sandbox's own credentials, set for this process only.
        os.environ.update(SOURCES__LMS__BASE_URL=base_url, SOURCES__LMS__USERNAME=SANDBOX_USER,
                          SOURCES__LMS__PASSWORD=SANDBOX_PASSWORD)
        os.environ.setdefault("SOURCES__LMS__BACKOFF_FACTOR", "0.2")
        print(f"sandbox LMS API on {base_url} ({args.profile} records, fault rate {args.fault_rate}); "
              "loading through Dagster:", flush=True)
        started = time.monotonic()
        run(args.days, base_url)
        elapsed = time.monotonic() - started
        served = requests.get(f"{base_url}/_sandbox/stats", timeout=10).json()
        print(f"\nthe sandbox served {served['requests']} requests: {served['by_status']}")
        print(f"demo finished in {elapsed:.1f} s")
    db = Warehouse.from_env().duckdb_path
    print(f"\nthe warehouse: {db} (DuckDB, schema lms). One query to try, who is overdue (an open enrolment past its due\n"
          "date counts too):\n"
          f"  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{db}', read_only=True).sql("
          "'select user_id, content_title, audience_name, days_overdue from lms.assignment_compliance "
          "where days_overdue > 0 order by days_overdue desc limit 10'))\"\n"
          "next: `make dev` opens the UI on these runs; README \"Connect your LMS\" (`make dev-lms`) loads your own.")


if __name__ == "__main__":
    main()
