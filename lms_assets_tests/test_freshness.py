"""Yesterday's activities must be loaded by the deadline: the freshness check fails while the day is late,
passes once it lands (issue #14 §2); the empty day materializes cleanly with row count 0 (§3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dagster import AssetCheckKey

from lms_assets.tenant.keys import ACTIVITIES
from lms_assets_tests.dagster_helpers import materialization_metadata, materialize

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
