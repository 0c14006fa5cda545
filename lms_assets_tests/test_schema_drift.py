"""Schema drift: new fields arrive as columns and are reported; type changes are caught (issue #4)."""

from __future__ import annotations

from lms_assets.sandbox import SandboxOptions
from lms_assets_tests.dagster_helpers import check_results, materialization_metadata, materialize
from lms_assets_tests.helpers import query


def test_a_new_user_field_arrives_as_a_column_and_is_reported(lms_env, make_sandbox, instance):
    before = make_sandbox()
    db = lms_env(before)
    first = materialize(instance, "users")
    assert "timezone" not in materialization_metadata(first, "users")["new_columns"]
    after = make_sandbox(SandboxOptions(break_mode="new-field", break_path="/v1/users", break_page=1))
    lms_env(after)
    second = materialize(instance, "users")
    meta = materialization_metadata(second, "users")
    assert meta["new_columns"] == "timezone"
    assert query(db, "SELECT COUNT(*) FROM lms.users WHERE timezone = 'Europe/Berlin'")[0][0] == 200
    assert check_results(second)["users_no_variant_columns"].passed


def test_a_variant_column_fails_its_check(lms_env, sandbox, instance):
    import duckdb

    from lms_assets_tests.dagster_helpers import run_checks

    db = lms_env(sandbox)
    materialize(instance, "content")
    with duckdb.connect(str(db)) as con:  # as an older load without the schema contract would have left it
        con.execute("ALTER TABLE lms.content ADD COLUMN is_official__v_text VARCHAR")
    check = check_results(run_checks(instance, "content"))["content_no_variant_columns"]
    assert not check.passed and check.metadata["variant_columns"].value == "is_official__v_text"
