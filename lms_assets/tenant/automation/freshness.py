"""Freshness of `<prefix>/activities`: yesterday's partition must be materialized by the deadline.

Dagster's time-partition freshness checks (`build_time_partition_freshness_checks`) rather than
1.13's `FreshnessPolicy`: the policy judges an asset by the age of its last materialization, which
a backfill of old days would satisfy while yesterday is missing; the check asks for the partition
that should exist by the deadline. A sensor evaluates it; the UI shows it failing while the day is
late and passing once it lands. (Dagster marks these builders superseded by the policy, whose
evaluator is asset-level, not partition-level: dagster discussion 34023; the warning is silenced here.)
"""

import warnings

from dagster import DefaultSensorStatus, build_sensor_for_freshness_checks, build_time_partition_freshness_checks

from lms_assets.tenant.config import freshness_deadline_cron
from lms_assets.tenant.tenant import Tenant


def build_freshness(tenant: Tenant) -> tuple[list, object]:
    """(the freshness checks of the tenant's activities, the sensor that evaluates them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is superseded.*")
        checks = build_time_partition_freshness_checks(
            assets=[tenant.key("activities")], deadline_cron=freshness_deadline_cron(), timezone="UTC")
        sensor = build_sensor_for_freshness_checks(
            freshness_checks=checks, name=tenant.name("freshness_checks_sensor"),
            default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=300)
    return list(checks), sensor
