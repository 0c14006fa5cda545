"""Schedules: yesterday's activity and CPD entries (plus a lookback for late arrivals), periodic refreshes of the dimensions and assignments."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from lms_assets.tenant.config import activity_lookback_days, compliance_lookback_days
from lms_assets.tenant.partition_ranges import range_tags
from lms_assets.tenant.partitions import partitions_for
from lms_assets.tenant.tenant import Crons, Tenant


def activity_range_for(tick: datetime, lookback_days: int, tenant: Tenant) -> tuple[str, str] | None:
    """The partition keys a tick at `tick` loads: the previous UTC day and `lookback_days` before it."""
    last = (tick.astimezone(timezone.utc) - timedelta(days=1)).date()
    first = last - timedelta(days=max(lookback_days, 0))
    keys = partitions_for(tenant).get_partition_keys(current_time=tick)
    if not keys:
        return None
    first_key, last_key = max(first.isoformat(), keys[0]), min(last.isoformat(), keys[-1])
    return (first_key, last_key) if first_key <= last_key else None


def ranged_request(context: ScheduleEvaluationContext, what: str, tenant: Tenant, lookback: int | None = None):
    """Yesterday and the lookback as one run for the whole range (the assets' single-run backfill policy)."""
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    keys = activity_range_for(tick, activity_lookback_days() if lookback is None else lookback, tenant)
    if keys is None:
        return SkipReason("No complete day yet.")
    first, last = keys
    return RunRequest(run_key=f"{what}-{first}-{last}", tags=range_tags(first, last))


def tick_request(context: ScheduleEvaluationContext, what: str) -> RunRequest:
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    return RunRequest(run_key=f"{what}-{tick.isoformat()}")


@dataclass(frozen=True)
class Row:
    """One schedule of every tenant: `<prefix>_<name>` runs job `job` on the cron its YAML gives (`crons.<given>`),
    else env `env`, else `default`; with `lookback`, as one ranged run of yesterday and the days before it."""

    name: str
    run_key: str  # the start of its runs' keys
    job: str
    given: Optional[str]
    env: str
    default: str
    lookback: Optional[Callable[[], int]]
    description: str

    def cron(self, crons: Crons) -> str:
        return (getattr(crons, self.given) if self.given else None) or os.environ.get(self.env, self.default)


SCHEDULES = (
    Row("activities_daily", "activities", "activities", "activities", "LMS_ACTIVITIES_CRON", "15 0 * * *", activity_lookback_days,
        "Shortly after midnight UTC: yesterday's activities and a lookback for late arrivals, as one ranged run."),
    Row("dimensions_refresh", "dimensions", "dimensions", "dimensions", "LMS_DIMENSIONS_CRON", "0 */6 * * *", None,
        "Refresh content and users from the LMS API."),
    Row("assignments_refresh", "assignments", "assignments", "assignments", "LMS_ASSIGNMENTS_CRON", "30 */6 * * *", None,
        "Refresh audiences, members, assignments and changed enrolments; the compliance report follows."),
    Row("cpd_daily", "cpd", "cpd", "cpd", "LMS_CPD_CRON", "45 0 * * *", activity_lookback_days,
        "Shortly after midnight UTC: yesterday's CPD entries and the same lookback as activities, as one ranged run."),
    Row("compliance_daily", "compliance-daily", "compliance_daily", None, "LMS_COMPLIANCE_CRON", "55 0 * * *", compliance_lookback_days,
        "Shortly after midnight UTC: yesterday's compliance from the history, and the days of the lookback "
        "(LMS_COMPLIANCE_LOOKBACK_DAYS, default 3) again, where a late load brought changes."),
)


def build_schedules(tenant: Tenant, jobs: dict) -> list:
    """The tenant's schedules, one per row of SCHEDULES."""
    return [_schedule(tenant, jobs, row) for row in SCHEDULES]


def _schedule(tenant: Tenant, jobs: dict, row: Row):
    @schedule(name=tenant.name(row.name), job=jobs[row.job], cron_schedule=row.cron(tenant.crons),
              execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING, description=row.description)
    def _tick(context: ScheduleEvaluationContext):
        if row.lookback is None:
            return tick_request(context, row.run_key)
        return ranged_request(context, row.run_key, tenant, row.lookback())

    return _tick
