"""Yesterday's activities must be loaded by the deadline: the freshness check fails while the day is late,
passes once it lands (issue #14 §2); the empty day materializes cleanly with row count 0 (§3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dagster import AssetCheckKey

from lms_assets_tests.dagster_helpers import materialization_metadata, materialize
from lms_assets_tests.keys import ACTIVITIES

FRESHNESS = AssetCheckKey(ACTIVITIES, "freshness_check")


def _freshness(instance):
    from lms_assets.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection=set(), asset_check_selection={FRESHNESS})
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    (evaluation,) = [e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    return evaluation


def test_yesterday_late_then_loaded(lms_env, sandbox, instance):
    lms_env(sandbox)
    now = datetime.now(timezone.utc)
    # the default deadline is 02:00 UTC: before it, the day before yesterday is the one due
    due = (now - timedelta(days=1 if now.hour >= 2 else 2)).date().isoformat()
    assert not _freshness(instance).passed

    result = materialize(instance, "activities", partition=due)  # a day the API holds nothing for
    assert result.success
    meta = materialization_metadata(result, "activities")
    assert meta["dagster/partition_row_count"] == 0 and meta["rows_loaded"] == 0
    assert meta["dagster/table_name"].endswith(".lms.activities")
    assert _freshness(instance).passed


def test_a_run_of_past_days_says_the_latest_day_is_not_loaded_yet_as_a_warning(lms_env, sandbox, instance):
    """Issue #37: "we expected partition ..." in every backfill run read as the backfill's error."""
    from dagster import AssetCheckSeverity

    from lms_assets_tests.dagster_helpers import check_results

    lms_env(sandbox)
    result = materialize(instance, "activities", partition="2024-01-02")
    assert result.success
    freshness = check_results(result)["freshness_check"]
    assert not freshness.passed and freshness.severity == AssetCheckSeverity.WARN
    assert freshness.description.startswith("The latest day due, ") and "is not loaded yet; days older than it" in freshness.description


def test_the_sensor_evaluates_the_check_once_when_due_and_again_once_loaded(lms_env, sandbox, instance):
    from dagster import RunRequest, build_sensor_context

    from lms_assets.definitions import defs
    from lms_assets.tenant.automation.freshness import due_day

    lms_env(sandbox)
    sensor = defs.get_sensor_def("lms_freshness_checks_sensor")
    day, _ = due_day(datetime.now(timezone.utc))
    context = build_sensor_context(instance=instance)
    (request,) = sensor.evaluate_tick(context).run_requests
    assert isinstance(request, RunRequest) and request.run_key == f"{day}:due"
    context = build_sensor_context(instance=instance, cursor=f"{day}:due")
    assert not sensor.evaluate_tick(context).run_requests  # evaluated already
    assert materialize(instance, "activities", partition=day).success
    (request,) = sensor.evaluate_tick(context).run_requests
    assert request.run_key == f"{day}:loaded"
