"""Records shaped as the real API documents them land exactly: every field, nested, numeric, temporal (issue #10)."""

from __future__ import annotations

import orjson
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from lms_assets.sandbox import SandboxOptions
from lms_assets.sources.lms import lms_source
from lms_assets.sources.lms.settings import column_name
from lms_assets.warehouse import make_pipeline
from lms_assets_tests.dagster_helpers import materialize
from lms_assets_tests.helpers import as_json, epoch_ms, expected_activities, load_source, query, row_count, utc

TEMPORAL = {"createdAt", "updatedAt", "firstLogin", "lastLogin", "date"}


_load = load_source  # the seed's three resources


def _landed(db, table: str) -> dict[str, dict]:
    """Every row of lms.<table> by id, with timestamps as epoch ms and JSON parsed."""
    types = dict(query(db, "select column_name, data_type from information_schema.columns where table_schema = 'lms' "
                           "and table_name = ? and column_name not like '\\_dlt%' escape '\\'", table))
    cols = list(types)
    select = ", ".join(f'epoch_ms("{c}")' if types[c].startswith("TIMESTAMP") else f'"{c}"' for c in cols)
    rows = query(db, f"select {select} from lms.{table}")
    return {r[cols.index("id")]: {c: as_json(v) if types[c] == "JSON" else v for c, v in zip(cols, r, strict=True)} for r in rows}


def _expected(record: dict) -> dict:
    return {column_name(k): epoch_ms(v) if k in TEMPORAL else v for k, v in record.items()}


def _assert_lands_exactly(landed: dict[str, dict], records: list[dict], derived: set[str] = frozenset()):
    assert set(landed) == {r["id"] for r in records}
    for record in records:
        row = landed[record["id"]]
        want = _expected(record)
        # a field the record lacks lands as NULL; one it has lands as sent (JSON compared as JSON)
        got = {c: v for c, v in row.items() if c not in derived and (c in want or v is not None)}
        assert got == want, record["id"]


def test_every_documented_field_lands_exactly(lms_env, real_sandbox):
    db = lms_env(real_sandbox)
    _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6))
    data = real_sandbox.data
    _assert_lands_exactly(_landed(db, "users"), [data.user(i) for i in range(data.users)], {"is_deleted", "deleted_at"})
    _assert_lands_exactly(_landed(db, "content"), [data.content(i) for i in range(data.contents)],
                          {"is_deleted", "deleted_at"})
    expected = expected_activities(data, utc(2024, 1, 1), utc(2024, 1, 6))
    index = {data.activity_id(i): i for i in range(data.activities)}
    _assert_lands_exactly(_landed(db, "activities"), [data.activity(index[a]) for a in expected])


@pytest.mark.parametrize("style", ["compact", "spaced"])
def test_activities_land_alike_however_the_api_writes_its_json(lms_env, make_sandbox, style):
    """Activity pages are decoded without dicts (activity_records.py), keeping nested values as the API wrote
    them: written spaced and ASCII-escaped, they still land as the same compact JSON text, every field exact."""
    sandbox = make_sandbox(SandboxOptions(json_style=style), profile="realistic")
    db = lms_env(sandbox)
    make_pipeline("lms_test").run(lms_source(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 4))
                                  .with_resources("activities"))
    data = sandbox.data
    index = {data.activity_id(i): i for i in range(data.activities)}
    records = [data.activity(index[a]) for a in expected_activities(data, utc(2024, 1, 1), utc(2024, 1, 4))]
    _assert_lands_exactly(_landed(db, "activities"), records)
    texts = {i: (d, w) for i, d, w in query(db, 'select id, data::varchar, "with"::varchar from lms.activities')}
    for record in records:
        want = tuple(None if record.get(k) is None else orjson.dumps(record[k]).decode() for k in ("data", "with"))
        assert texts[record["id"]] == want, record["id"]
    assert any(r.get("points") is not None for r in records)  # an undocumented field came along too


def test_types_numbers_nested_and_no_child_tables(lms_env, real_sandbox):
    db = lms_env(real_sandbox)
    _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 3))
    types = {(t, c): d for t, c, d in query(db, "select table_name, column_name, data_type from "
                                                "information_schema.columns where table_schema = 'lms'")}
    for column in ("positions", "additional_fields", "tags", "rank"):
        assert types[("users", column)] == "JSON"
    for column in ("tags", "duration", "content_history"):
        assert types[("content", column)] == "JSON"
    assert types[("activities", "data")] == types[("activities", "with")] == "JSON"
    # `compliance` is 0 on the first records and a fraction later: one DOUBLE column, no variant
    assert types[("users", "compliance")] == types[("users", "level")] == "DOUBLE"
    assert not [c for (_, c) in types if "__v_" in c]
    for column in ("first_login", "last_login", "created_at", "updated_at"):
        assert types[("users", column)] == "TIMESTAMP WITH TIME ZONE"
    assert types[("users", "deleted")] == "BOOLEAN"
    tables = {t for t, in query(db, "select table_name from information_schema.tables where table_schema = 'lms'")}
    assert {t for t in tables if not t.startswith("_dlt")} == {"activities", "content", "users"}
    compliance = {v for v, in query(db, "select compliance from lms.users")}
    assert 0.0 in compliance and any(0 < v < 1 for v in compliance)
    # null, {} and [] stay apart
    ranks = [as_json(v) for v, in query(db, "select rank from lms.users")]
    assert None in ranks and {} in ranks and any(r for r in ranks)


@pytest.mark.slow  # seconds of waiting or several runs: the full suite's
def test_the_users_load_succeeds_through_dagster_on_its_first_run(lms_env, real_sandbox, instance):
    # the users load that "can never succeed": bigint from `0`, then `0.85` refused by the contract
    db = lms_env(real_sandbox)
    assert materialize(instance, "content", "users").success
    assert row_count(db, "users") == real_sandbox.data.users
    assert materialize(instance, "content", "users").success  # and every run after it


def test_an_undocumented_number_whole_in_one_run_and_fractional_in_the_next(lms_env, real_sandbox):
    # `points` is not in the API's documentation: `0` on 2024-01-02, fractions on 2024-01-05
    db = lms_env(real_sandbox)
    _load(window_start=utc(2024, 1, 2), window_end=utc(2024, 1, 3))
    _load(window_start=utc(2024, 1, 5), window_end=utc(2024, 1, 6))
    types = dict(query(db, "select column_name, data_type from information_schema.columns "
                           "where table_schema = 'lms' and table_name = 'activities'"))
    assert types["points"] == "DOUBLE"
    points = {v for v, in query(db, "select points from lms.activities where points is not null")}
    assert 0.0 in points and any(v != int(v) for v in points)


@pytest.mark.parametrize("path, field, label", [
    ("/v1/users", "email", "users"),
    ("/v1/activities", "type", "activity"),
])
def test_a_text_field_that_turns_into_an_object_fails_clearly(lms_env, make_sandbox, path, field, label):
    sb = make_sandbox(SandboxOptions(break_mode="object-in-text", break_path=path, break_page=2), profile="realistic")
    db = lms_env(sb)
    with pytest.raises(PipelineStepFailed) as err:
        _load(window_start=utc(2024, 1, 1), window_end=utc(2024, 1, 6))
    message = str(err.value)
    assert f"Field '{field}' of {label}" in message and "arrived as an object" in message
    assert "nothing was loaded" in message
    for table in ("users", "content", "activities"):
        assert row_count(db, table) == 0
