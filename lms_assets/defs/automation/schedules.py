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

from lms_assets.defs.automation.jobs import activities_job, assignments_job, cpd_job, dimensions_job
from lms_assets.defs.config import activities_cron, activity_lookback_days, assignments_cron, cpd_cron, dimensions_cron
from lms_assets.defs.partition_ranges import range_tags
from lms_assets.defs.partitions import daily_partitions


def activity_range_for(tick: datetime, lookback_days: int) -> tuple[str, str] | None:
    """The partition keys a tick at `tick` loads: the previous UTC day and `lookback_days` before it."""
    last = (tick.astimezone(timezone.utc) - timedelta(days=1)).date()
    first = last - timedelta(days=max(lookback_days, 0))
    keys = daily_partitions.get_partition_keys(current_time=tick)
    if not keys:
        return None
    first_key, last_key = max(first.isoformat(), keys[0]), min(last.isoformat(), keys[-1])
    return (first_key, last_key) if first_key <= last_key else None


def ranged_request(context: ScheduleEvaluationContext, what: str):
    """Yesterday and the lookback as one run for the whole range (the assets' single-run backfill policy)."""
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    keys = activity_range_for(tick, activity_lookback_days())
    if keys is None:
        return SkipReason("No complete day yet.")
    first, last = keys
    return RunRequest(run_key=f"{what}-{first}-{last}", tags=range_tags(first, last))


def tick_request(context: ScheduleEvaluationContext, what: str) -> RunRequest:
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    return RunRequest(run_key=f"{what}-{tick.isoformat()}")


@schedule(
    name="lms_activities_daily",
    job=activities_job,
    cron_schedule=activities_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Shortly after midnight UTC: yesterday's activities and a lookback for late arrivals, as one ranged run.",
)
def activities_daily(context: ScheduleEvaluationContext):
    return ranged_request(context, "activities")


@schedule(
    name="lms_dimensions_refresh",
    job=dimensions_job,
    cron_schedule=dimensions_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refresh content and users from the LMS API.",
)
def dimensions_refresh(context: ScheduleEvaluationContext):
    return tick_request(context, "dimensions")


@schedule(
    name="lms_assignments_refresh",
    job=assignments_job,
    cron_schedule=assignments_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refresh audiences, members, assignments and changed enrolments; the compliance report follows.",
)
def assignments_refresh(context: ScheduleEvaluationContext):
    return tick_request(context, "assignments")


@schedule(
    name="lms_cpd_daily",
    job=cpd_job,
    cron_schedule=cpd_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Shortly after midnight UTC: yesterday's CPD entries and the same lookback as activities, as one ranged run.",
)
def cpd_daily(context: ScheduleEvaluationContext):
    return ranged_request(context, "cpd")
