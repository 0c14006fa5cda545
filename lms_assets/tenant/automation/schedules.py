"""Schedules: yesterday's activity and CPD entries (plus a lookback for late arrivals), periodic refreshes of the dimensions and assignments."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from lms_assets.tenant.config import (
    activities_cron,
    activity_lookback_days,
    assignments_cron,
    compliance_cron,
    compliance_lookback_days,
    cpd_cron,
    dimensions_cron,
)
from lms_assets.tenant.partition_ranges import range_tags
from lms_assets.tenant.partitions import partitions_for
from lms_assets.tenant.tenant import Tenant


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


def build_schedules(tenant: Tenant, jobs: dict) -> list:
    """The tenant's five schedules; a cron its YAML gives wins over the `LMS_*_CRON` env var."""
    crons = tenant.crons

    @schedule(
        name=tenant.name("activities_daily"),
        job=jobs["activities"],
        cron_schedule=activities_cron(crons.activities),
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Shortly after midnight UTC: yesterday's activities and a lookback for late arrivals, as one ranged run.",
    )
    def activities_daily(context: ScheduleEvaluationContext):
        return ranged_request(context, "activities", tenant)

    @schedule(
        name=tenant.name("dimensions_refresh"),
        job=jobs["dimensions"],
        cron_schedule=dimensions_cron(crons.dimensions),
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Refresh content and users from the LMS API.",
    )
    def dimensions_refresh(context: ScheduleEvaluationContext):
        return tick_request(context, "dimensions")

    @schedule(
        name=tenant.name("assignments_refresh"),
        job=jobs["assignments"],
        cron_schedule=assignments_cron(crons.assignments),
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Refresh audiences, members, assignments and changed enrolments; the compliance report follows.",
    )
    def assignments_refresh(context: ScheduleEvaluationContext):
        return tick_request(context, "assignments")

    @schedule(
        name=tenant.name("cpd_daily"),
        job=jobs["cpd"],
        cron_schedule=cpd_cron(crons.cpd),
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Shortly after midnight UTC: yesterday's CPD entries and the same lookback as activities, as one ranged run.",
    )
    def cpd_daily(context: ScheduleEvaluationContext):
        return ranged_request(context, "cpd", tenant)

    @schedule(
        name=tenant.name("compliance_daily"),
        job=jobs["compliance_daily"],
        cron_schedule=compliance_cron(),
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description=("Shortly after midnight UTC: yesterday's compliance from the history, and the days of the lookback "
                     "(LMS_COMPLIANCE_LOOKBACK_DAYS, default 3) again, where a late load brought changes."),
    )
    def compliance_daily(context: ScheduleEvaluationContext):
        return ranged_request(context, "compliance-daily", tenant, compliance_lookback_days())

    return [activities_daily, dimensions_refresh, assignments_refresh, cpd_daily, compliance_daily]
