"""Schedules: yesterday's activity (plus a lookback for late arrivals) and a periodic dimension refresh."""

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


@schedule(
    name="lms_activities_daily",
    job=activities_job,
    cron_schedule=activities_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Shortly after midnight UTC: yesterday's activities and a lookback for late arrivals, as one ranged run.",
)
def activities_daily(context: ScheduleEvaluationContext):
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    keys = activity_range_for(tick, activity_lookback_days())
    if keys is None:
        return SkipReason("No complete day of activity yet.")
    first, last = keys
    # One run for the whole range (the assets' single-run backfill policy), not one per day.
    return RunRequest(run_key=f"activities-{first}-{last}", tags=range_tags(first, last))


@schedule(
    name="lms_dimensions_refresh",
    job=dimensions_job,
    cron_schedule=dimensions_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refresh content and users from the LMS API.",
)
def dimensions_refresh(context: ScheduleEvaluationContext):
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    return RunRequest(run_key=f"dimensions-{tick.isoformat()}")


@schedule(
    name="lms_assignments_refresh",
    job=assignments_job,
    cron_schedule=assignments_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refresh audiences, members, assignments and changed enrolments; the compliance report follows.",
)
def assignments_refresh(context: ScheduleEvaluationContext):
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    return RunRequest(run_key=f"assignments-{tick.isoformat()}")


@schedule(
    name="lms_cpd_daily",
    job=cpd_job,
    cron_schedule=cpd_cron(),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Shortly after midnight UTC: yesterday's CPD entries and the same lookback as activities, as one ranged run.",
)
def cpd_daily(context: ScheduleEvaluationContext):
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    keys = activity_range_for(tick, activity_lookback_days())
    if keys is None:
        return SkipReason("No complete day of CPD entries yet.")
    first, last = keys
    return RunRequest(run_key=f"cpd-{first}-{last}", tags=range_tags(first, last))
