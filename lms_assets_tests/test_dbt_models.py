"""The models as a dbt project run by dagster-dbt (issue #34): tests that fail when broken, one sentence per
failure, the incremental daily model, and the project used as a package by a team's own dbt project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lms_assets_tests.dagster_helpers import check_results, materialize, run_checks
from lms_assets_tests.helpers import query

OUTER = Path(__file__).parent / "dbt_outer"
DBT_PROJECT = Path(__file__).resolve().parent.parent / "lms_assets" / "dbt"
LOADS = ("content", "users", "audiences", "audience_members", "assignments", "enrolments")
COMPLIANCE = ("assignment_compliance", "assignment_compliance_by_audience", "assignment_compliance_by_assignment")


def _plant(db: Path, sql: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(sql)


# (check, its asset, what breaks it)
BREAKS = [
    ("daily_counts_match_activities", "user_activity_daily",
     "UPDATE lms.user_activity_daily SET activity_count = activity_count + 1 WHERE user_id = (SELECT MIN(user_id) FROM lms.user_activity_daily)"),
    ("user_activity_daily_one_row_per_user_and_day", "user_activity_daily",
     "INSERT INTO lms.user_activity_daily SELECT user_id, activity_date, 0, 0, 0 FROM lms.user_activity_daily LIMIT 1"),
    ("unique_user_activity_summary_user_id", "user_activity_summary",
     "INSERT INTO lms.user_activity_summary SELECT * FROM lms.user_activity_summary WHERE user_id = (SELECT MAX(user_id) FROM lms.user_activity_summary)"),
    ("user_activity_summary_covers_every_user", "user_activity_summary",
     "DELETE FROM lms.user_activity_summary WHERE user_id = (SELECT MIN(user_id) FROM lms.user_activity_summary)"),
    ("content_engagement_matches_sources", "content_engagement",
     "UPDATE lms.content_engagement SET activity_count = activity_count + 1000 WHERE content_id = (SELECT MIN(content_id) FROM lms.content_engagement)"),
    ("content_engagement_covers_every_content_item", "content_engagement",
     "DELETE FROM lms.content_engagement WHERE content_id = (SELECT MAX(content_id) FROM lms.content_engagement)"),
    ("assignment_compliance_counts_match_enrolments", "assignment_compliance",
     "DELETE FROM lms.assignment_compliance WHERE enrolment_id = (SELECT MIN(enrolment_id) FROM lms.assignment_compliance)"),
    ("accepted_values_assignment_compliance_status__complete__open__overdue__scheduled", "assignment_compliance",
     "UPDATE lms.assignment_compliance SET status = 'archived' "
     "WHERE enrolment_id = (SELECT MIN(enrolment_id) FROM lms.assignment_compliance)"),
    ("assignment_compliance_assignments_known", "assignment_compliance",
     "UPDATE lms.assignment_compliance SET assignment_id = 'no-such-assignment' "
     "WHERE enrolment_id = (SELECT MIN(enrolment_id) FROM lms.assignment_compliance)"),
    ("assignment_compliance_by_audience_counts_match_enrolments", "assignment_compliance_by_audience",
     "UPDATE lms.assignment_compliance_by_audience SET overdue = overdue + 1 "
     "WHERE audience_id = (SELECT MIN(audience_id) FROM lms.assignment_compliance_by_audience)"),
    ("assignment_compliance_by_assignment_counts_match_enrolments", "assignment_compliance_by_assignment",
     "UPDATE lms.assignment_compliance_by_assignment SET complete = complete - 1 "
     "WHERE assignment_id = (SELECT MIN(assignment_id) FROM lms.assignment_compliance_by_assignment)"),
]


@pytest.fixture
def modelled(lms_env, real_sandbox, instance):
    """Every listing loaded from the realistic sandbox, a few activity days, and every model built."""
    db = lms_env(real_sandbox)
    assert materialize(instance, *LOADS).success
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-03").success
    assert materialize(instance, "user_activity_daily", first="2024-01-01", last="2024-01-03").success
    result = materialize(instance, "user_activity_summary", "content_engagement", *COMPLIANCE)
    assert result.success
    return db, result


@pytest.mark.slow  # one load of every listing and the dbt builds, then two dbt test runs
def test_each_dbt_test_passes_then_fails_when_its_condition_is_broken(modelled, instance):
    db, result = modelled
    passed = check_results(result)
    assert all(passed[name].passed for name, asset, _ in BREAKS if asset != "user_activity_daily")
    for _, _, sql in BREAKS:  # each case breaks one test's condition only
        _plant(db, sql)
    daily = {a for _, a, _ in BREAKS if a == "user_activity_daily"}
    others = {a for _, a, _ in BREAKS} - daily
    evaluations = {**check_results(run_checks(instance, *daily, partition="2024-01-02")),
                   **check_results(run_checks(instance, *others))}
    for name, asset, _ in BREAKS:
        evaluation = evaluations[name]
        assert not evaluation.passed, name
        # one sentence naming the test, the model and the count
        assert evaluation.description.startswith(f"dbt test {name} on lms/{asset} failed: "), evaluation.description
        assert evaluation.metadata["dagster_dbt/failed_row_count"].value >= 1


def test_the_daily_model_rebuilds_exactly_its_window(lms_env, sandbox, instance):
    db = lms_env(sandbox)
    assert materialize(instance, "users").success
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-04").success
    assert materialize(instance, "user_activity_daily", first="2024-01-01", last="2024-01-04").success
    full = query(db, "SELECT * FROM lms.user_activity_daily ORDER BY 1, 2")
    # a row planted in another day stays; the planted and the lost rows of the window are put right
    _plant(db, "UPDATE lms.user_activity_daily SET activity_count = 999 WHERE activity_date = DATE '2024-01-01'")
    _plant(db, "DELETE FROM lms.user_activity_daily WHERE activity_date = DATE '2024-01-03' AND user_id = "
               "(SELECT MIN(user_id) FROM lms.user_activity_daily WHERE activity_date = DATE '2024-01-03')")
    _plant(db, "INSERT INTO lms.user_activity_daily VALUES ('ghost', DATE '2024-01-02', 1, 0, 1)")
    rerun = materialize(instance, "user_activity_daily", first="2024-01-02", last="2024-01-03", raise_on_error=False)
    after = query(db, "SELECT * FROM lms.user_activity_daily ORDER BY 1, 2")
    assert [r for r in after if str(r[1]) != "2024-01-01"] == [r for r in full if str(r[1]) != "2024-01-01"]
    assert {r[2] for r in after if str(r[1]) == "2024-01-01"} == {999}
    # the day left wrong outside the window fails the count test, which blocks the run as dbt's own build would
    assert not rerun.success and not check_results(rerun)["daily_counts_match_activities"].passed
    assert materialize(instance, "user_activity_daily", partition="2024-01-01").success
    assert query(db, "SELECT * FROM lms.user_activity_daily ORDER BY 1, 2") == full


def test_a_model_whose_input_is_not_loaded_names_what_to_load(lms_env, real_sandbox, instance):
    lms_env(real_sandbox)
    result = materialize(instance, *COMPLIANCE, raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert ("need lms/enrolments, lms/assignments, lms/audiences, lms/users, lms/content, not loaded yet: "
            "materialize them first") in failure.event_specific_data.error.message


def test_the_models_have_a_description_for_every_column():
    from lms_assets.definitions import defs
    from lms_assets_tests.keys import lms_key

    graph = defs.resolve_asset_graph()
    for name in ("user_activity_daily", "user_activity_summary", "content_engagement", *COMPLIANCE,
                 "content", "users", "activities", "audiences", "audience_members", "assignments", "enrolments", "cpd_entries"):
        schema = graph.get(lms_key(name)).metadata["dagster/column_schema"]
        assert schema.columns, name
        assert all(c.description for c in schema.columns), (name, [c.name for c in schema.columns if not c.description])


@pytest.mark.slow  # dbt deps and dbt build in a project of their own
def test_a_teams_own_dbt_project_builds_on_the_package(lms_env, sandbox, instance, tmp_path):
    db = lms_env(sandbox)
    assert materialize(instance, "users").success
    assert materialize(instance, "activities", first="2024-01-01", last="2024-01-05").success
    project = tmp_path / "outer"
    shutil.copytree(OUTER, project)
    (project / "packages.yml").write_text(f"packages:\n  - local: {DBT_PROJECT}\n")
    dbt = str(Path(sys.executable).with_name("dbt"))
    env = {**os.environ, "OUTER_DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(project), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # cautious: the package's tests of models not selected (they read the same sources) stay out, as docs/dbt.md says
    for command in (["deps"], ["build", "--select", "+engaged_learners", "--indirect-selection", "cautious"], ["docs", "generate"]):
        done = subprocess.run([dbt, *command], cwd=project, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-3000:]
    got = set(query(db, "SELECT user_id, activity_count, active_days FROM analytics.engaged_learners"))
    want = set(query(db, "SELECT user_id, activity_count, active_days FROM lms_models.user_activity_summary "
                         "WHERE active_days >= 2 AND NOT is_deleted"))
    assert got == want and len(got) > 10
    catalog = (project / "target" / "catalog.json").read_text()
    assert "lms_models" in catalog and "engaged_learners" in catalog


def test_the_dbt_version_is_the_installed_dbt_cores():
    # LmsDbtCliResource answers dagster-dbt's private `_cli_version` from the installed dbt-core instead of
    # running `dbt --version` per run: if dagster-dbt renames it, or the executable is another dbt, this fails
    from dagster_dbt import DbtCliResource

    from lms_assets.tenant.models.project import DBT_EXECUTABLE, dbt_resource

    assert "_cli_version" in vars(DbtCliResource)
    ours = dbt_resource()
    asked = DbtCliResource(project_dir=ours.project_dir, dbt_executable=DBT_EXECUTABLE)
    assert ours._cli_version == asked._cli_version  # noqa: SLF001 - the pinned private name
