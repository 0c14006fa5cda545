"""Freshness of `<prefix>/activities`: the latest day due (yesterday, once the deadline has passed) is loaded.

Why a check of our own rather than `build_time_partition_freshness_checks`: Dagster's runs with
every materialization of the asset, so each run of a backfill of past days reported it failed,
"we expected partition 2026-12-05", which read as the backfill's error (issue #37). This one says
what it means: which day is due, by when, and that a run loading older days does not load it; it
warns (severity WARN), never blocks. The sensor evaluates it after each deadline and again once the
day lands, as Dagster's freshness sensor did. (1.13's `FreshnessPolicy` judges an asset by the age
of its last materialization, which a backfill of old days would satisfy while yesterday is missing.)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from croniter import croniter
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SkipReason,
    asset_check,
    define_asset_job,
    sensor,
)

from lms_assets.tenant.config import freshness_deadline_cron
from lms_assets.tenant.tenant import Tenant


def due_day(now: datetime) -> tuple[str, datetime]:
    """(the latest day that must be loaded at `now`, the deadline it was due by)."""
    deadline = croniter(freshness_deadline_cron(), now).get_prev(datetime)
    return (deadline.date() - timedelta(days=1)).isoformat(), deadline


def build_freshness(tenant: Tenant) -> tuple[list, object]:
    """(the freshness check of the tenant's activities, the sensor that evaluates it)."""
    key = tenant.key("activities")

    @asset_check(asset=key, name="freshness_check", blocking=False, description=(
        "Warns while the latest day due is not loaded: yesterday (UTC) once LMS_FRESHNESS_DEADLINE_CRON has passed. "
        "A run that loads older days leaves it warning until that day lands."))
    def freshness_check(context) -> AssetCheckResult:
        day, deadline = due_day(datetime.now(timezone.utc))
        loaded = day in context.instance.get_materialized_partitions(key)
        by = f"{deadline:%Y-%m-%d %H:%M} UTC"
        return AssetCheckResult(
            passed=loaded, severity=AssetCheckSeverity.WARN, metadata={"due_day": day, "deadline": by},
            description=(f"{day}, the latest day due by {by}, is loaded." if loaded else
                         f"The latest day due, {day} (by {by}), is not loaded yet; days older than it may be loading "
                         "now. Its daily schedule or a run of that partition loads it."))

    job = define_asset_job(tenant.name("freshness_job"), selection=AssetSelection.checks(freshness_check))

    @sensor(name=tenant.name("freshness_checks_sensor"), job=job, minimum_interval_seconds=300,
            default_status=DefaultSensorStatus.RUNNING, description=f"Evaluates {key.to_user_string()}'s freshness "
            "check after each deadline, and again once the day due has landed.")
    def freshness_sensor(context):
        day, _ = due_day(datetime.now(timezone.utc))
        loaded = day in context.instance.get_materialized_partitions(key)
        run_key = f"{day}:{'loaded' if loaded else 'due'}"
        if context.cursor == run_key:
            return SkipReason(f"{day}: already evaluated ({'loaded' if loaded else 'not loaded yet'}).")
        context.update_cursor(run_key)
        return RunRequest(run_key=run_key)

    return [freshness_check], freshness_sensor
