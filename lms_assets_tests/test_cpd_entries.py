"""`lms/cpd_entries`: daily partitions on `entryDate`, exact under either reading of the bounds, committed by slices (issue #20)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.dagster_helpers import materialization_metadata, materialize
from lms_assets_tests.helpers import query, utc


def expected_entries(data, start: datetime, end: datetime) -> set[str]:
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    return {data.cpd_entry(i)["logEntryId"] for i, ms in enumerate(data.cpd_ms) if lo <= ms < hi}


@pytest.mark.parametrize("bounds", ["inclusive", "exclusive"])
def test_one_partition_loads_exactly_its_day(lms_env, make_sandbox, instance, monkeypatch, bounds):
    sb = make_sandbox(SandboxOptions(bounds=bounds, strict_timestamps=True), profile="realistic")
    db = lms_env(sb)
    monkeypatch.setenv("SOURCES__LMS__TIMESTAMP_FORMAT", "%Y-%m-%d %H:%M:%S")  # the documented format a strict API needs
    result = materialize(instance, "cpd_entries", partition="2024-01-03")
    want = expected_entries(sb.data, utc(2024, 1, 3), utc(2024, 1, 4))
    assert {r for r, in query(db, "select log_entry_id from lms.cpd_entries")} == want
    # the entry at midnight of the day is in, the one at the next midnight is not
    midnight = query(db, "select count(*) from lms.cpd_entries where entry_date = ?", utc(2024, 1, 3))[0][0]
    assert midnight == 1
    assert materialization_metadata(result, "cpd_entries")["dagster/partition_row_count"] == len(want)
    types = dict(query(db, "select column_name, data_type from information_schema.columns where table_schema = 'lms' "
                           "and table_name = 'cpd_entries'"))
    assert types["entry_date"] == "TIMESTAMP WITH TIME ZONE" and types["activity"] == types["category"] == "JSON"
    assert types["duration_minutes"] == "DOUBLE"


@pytest.mark.slow
def test_a_range_is_one_run_committed_in_slices(lms_env, real_sandbox, instance, monkeypatch):
    db = lms_env(real_sandbox)
    monkeypatch.setenv("LMS_COMMIT_EVERY_DAYS", "2")
    result = materialize(instance, "cpd_entries", first="2024-01-01", last="2024-01-05")
    assert result.success
    want = expected_entries(real_sandbox.data, utc(2024, 1, 1), utc(2024, 1, 6))
    assert {r for r, in query(db, "select log_entry_id from lms.cpd_entries")} == want
    log = query(db, "select window_start, window_end, rows from lms._lms_windows where resource = 'cpd_entries' "
                    "order by window_start")
    assert [(a.astimezone(timezone.utc), b.astimezone(timezone.utc)) for a, b, _ in log] == [
        (utc(2024, 1, 1), utc(2024, 1, 3)), (utc(2024, 1, 3), utc(2024, 1, 5)), (utc(2024, 1, 5), utc(2024, 1, 6))]
    assert sum(n for *_, n in log) == len(want)
    days = {e.event_specific_data.materialization.partition for e in result.all_events
            if e.event_type_value == "ASSET_MATERIALIZATION"
            and e.event_specific_data.materialization.asset_key.path == ["lms", "cpd_entries"]}
    assert days == {(utc(2024, 1, 1) + timedelta(days=d)).date().isoformat() for d in range(5)}
