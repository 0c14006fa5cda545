"""Dagster's standard metadata on every materialization, and column lineage on the summaries (issue #14 §3)."""

from __future__ import annotations

import pytest

from lms_assets_tests.dagster_helpers import materialization_metadata, materialize
from lms_assets_tests.helpers import query, row_count

pytestmark = pytest.mark.slow  # several Dagster runs each


def test_every_materialization_carries_row_count_table_name_and_column_schema(lms_env, real_sandbox, instance):
    db = lms_env(real_sandbox)
    loads = materialize(instance, "content", "users")
    acts = materialize(instance, "activities", first="2024-01-02", last="2024-01-03")
    sums = materialize(instance, "user_activity_summary", "content_engagement")
    daily = materialize(instance, "user_activity_daily", partition="2024-01-02")
    database = query(db, "SELECT current_database()")[0][0]
    for result, name in ((loads, "content"), (loads, "users"), (acts, "activities"), (sums, "user_activity_summary"),
                         (sums, "content_engagement"), (daily, "user_activity_daily")):
        meta = materialization_metadata(result, name)
        assert meta["dagster/row_count"] == row_count(db, name), name
        assert meta["dagster/table_name"] == f"{database}.lms.{name}"
        columns = {c.name for c in meta["dagster/column_schema"].columns}
        landed = {r[0] for r in query(db, f"SELECT column_name FROM information_schema.columns WHERE table_name = '{name}'")}
        assert columns == landed, name
    window = query(db, "SELECT COUNT(*) FROM lms.activities WHERE date >= '2024-01-02' AND date < '2024-01-04'")[0][0]
    assert materialization_metadata(acts, "activities")["dagster/partition_row_count"] == window
    day = query(db, "SELECT COUNT(*) FROM lms.user_activity_daily WHERE activity_date = '2024-01-02'")[0][0]
    assert materialization_metadata(daily, "user_activity_daily")["dagster/partition_row_count"] == day


def test_the_models_report_column_lineage_to_columns_that_exist(lms_env, real_sandbox, instance):
    # dagster-dbt derives it from each model's compiled SQL (sqlglot) after the build: nothing hand-written
    db = lms_env(real_sandbox)
    assert materialize(instance, "content", "users").success
    assert materialize(instance, "activities", partition="2024-01-02").success
    daily = materialize(instance, "user_activity_daily", partition="2024-01-02")
    summaries = materialize(instance, "user_activity_summary", "content_engagement")
    assert daily.success and summaries.success
    for result, name in ((daily, "user_activity_daily"), (summaries, "user_activity_summary"), (summaries, "content_engagement")):
        lineage = materialization_metadata(result, name)["dagster/column_lineage"]
        summary_columns = {r[0] for r in query(db, f"SELECT column_name FROM information_schema.columns WHERE table_name = '{name}'")}
        assert set(lineage.deps_by_column) == summary_columns, name
        for deps in lineage.deps_by_column.values():
            for dep in deps:
                table = dep.asset_key.path[-1]
                source_columns = {r[0] for r in query(db, f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'")}
                assert dep.column_name in source_columns, (name, table, dep.column_name)
