"""Schedules and the automation sensor produce the runs a data engineer expects (issue #3)."""

from __future__ import annotations

from datetime import datetime, timezone

from dagster import PartitionKeyRange, build_schedule_context, evaluate_automation_conditions

from lms_assets_tests.dagster_helpers import key, materialize


def _schedule(name: str):
    from lms_assets.definitions import defs

    return defs.resolve_schedule_def(name)


def test_daily_schedule_loads_yesterday_and_the_lookback_in_one_run():
    schedule = _schedule("lms_activities_daily")
    assert schedule.cron_schedule == "15 0 * * *" and schedule.execution_timezone == "UTC"
    ctx = build_schedule_context(scheduled_execution_time=datetime(2024, 3, 10, 0, 15, tzinfo=timezone.utc))
    [request] = schedule.evaluate_tick(ctx).run_requests
    assert request.partition_key_range == PartitionKeyRange("2024-03-07", "2024-03-09")
    assert schedule.job_name == "lms_activities_job"


def test_the_lookback_is_configurable(monkeypatch):
    # LMS_ACTIVITY_LOOKBACK_DAYS is read at every tick
    schedule = _schedule("lms_activities_daily")
    tick = datetime(2024, 3, 10, 0, 15, tzinfo=timezone.utc)
    for days, first in (("0", "2024-03-09"), ("6", "2024-03-03")):
        monkeypatch.setenv("LMS_ACTIVITY_LOOKBACK_DAYS", days)
        [request] = schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=tick)).run_requests
        assert request.partition_key_range == PartitionKeyRange(first, "2024-03-09")


def test_the_range_never_starts_before_the_first_partition():
    from lms_assets.tenant.automation.schedules import activity_range_for
    from lms_assets_tests.keys import FIRST

    tick = datetime(2024, 3, 10, 0, 15, tzinfo=timezone.utc)
    assert activity_range_for(tick, 0, FIRST) == ("2024-03-09", "2024-03-09")
    assert activity_range_for(tick, 6, FIRST) == ("2024-03-03", "2024-03-09")
    # never before the first partition
    assert activity_range_for(datetime(2024, 1, 2, 0, 15, tzinfo=timezone.utc), 2, FIRST) == ("2024-01-01", "2024-01-01")
    assert activity_range_for(datetime(2024, 1, 1, 0, 15, tzinfo=timezone.utc), 2, FIRST) is None


def test_dimensions_refresh_every_six_hours():
    schedule = _schedule("lms_dimensions_refresh")
    assert schedule.cron_schedule == "0 */6 * * *"
    ctx = build_schedule_context(scheduled_execution_time=datetime(2024, 3, 10, 6, 0, tzinfo=timezone.utc))
    [request] = schedule.evaluate_tick(ctx).run_requests
    assert schedule.job_name == "lms_dimensions_job" and request.run_key


def test_a_landed_activity_partition_brings_its_summaries_up_to_date(lms_env, sandbox, instance):
    from lms_assets.definitions import defs

    lms_env(sandbox)
    first = evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0  # nothing upstream has landed: nothing to do
    assert materialize(instance, "content", "users").success
    assert materialize(instance, "activities", partition="2024-01-03").success
    second = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_requested_partitions(key("user_activity_daily")) == {"2024-01-03"}
    assert second.get_num_requested(key("user_activity_summary")) == 1
    # once handled, the same landing asks for nothing more
    third = evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.total_requested == 0


def test_the_compliance_report_follows_once_its_upstream_is_loaded(lms_env, real_sandbox, instance):
    # issue #20: users refreshing on a tenant that never loaded assignments launch no failing report
    from lms_assets.definitions import defs

    lms_env(real_sandbox)
    first = evaluate_automation_conditions(defs=defs, instance=instance)
    assert materialize(instance, "content", "users").success
    second = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_num_requested(key("assignment_compliance")) == 0
    assert materialize(instance, "audiences", "audience_members", "assignments", "enrolments").success
    third = evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.get_num_requested(key("assignment_compliance")) == 1
    # the roll-ups (dbt models of their own) are built in the same run as the report, not a tick later
    assert third.get_num_requested(key("assignment_compliance_by_audience")) == 1
    assert third.get_num_requested(key("assignment_compliance_by_assignment")) == 1


def test_the_automation_sensor_is_on_and_targets_the_summaries():
    from lms_assets.definitions import defs

    sensor = defs.resolve_sensor_def("lms_summaries_automation")
    assert sensor.default_status.value == "RUNNING"
    targeted = sensor.asset_selection.resolve(defs.resolve_asset_graph())
    assert targeted == {key("user_activity_daily"), key("user_activity_summary"), key("content_engagement"),
                        key("assignment_compliance"), key("assignment_compliance_by_audience"),
                        key("assignment_compliance_by_assignment"), key("assignment_compliance_daily"),
                        *(key(f"{t}_history") for t in ("enrolments", "assignments", "audience_members", "users"))}
