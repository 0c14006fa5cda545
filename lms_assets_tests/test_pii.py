"""Personal data hashed or dropped before it lands: tables, Dagster storage, metadata, summaries (issue #14 §1)."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from lms_assets_tests.dagster_helpers import check_results, materialize, run_checks
from lms_assets_tests.helpers import query

KEY = "a-test-pii-key-of-some-length"


def _digest(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def _text_values(db) -> list[str]:
    """Every text value of every table in the warehouse."""
    out = []
    for schema, table, column in query(db, "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                                           "WHERE data_type = 'VARCHAR'"):
        out += [r[0] for r in query(db, f'SELECT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL')]
    return out


@pytest.mark.slow  # five Dagster runs
def test_hashed_and_dropped_user_columns_never_land_and_summaries_still_work(lms_env, real_sandbox, instance, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCES__LMS__PII__EMAIL", "hash")
    monkeypatch.setenv("SOURCES__LMS__PII__USERS__FIRST_NAME", "drop")
    monkeypatch.setenv("SOURCES__LMS__PII_KEY", KEY)
    db = lms_env(real_sandbox)
    data = real_sandbox.data
    raw = {data.user(i)["id"]: data.user(i)["email"] for i in range(data.users)}
    first_names = {data.user(i)["firstName"] for i in range(data.users)}

    dims = materialize(instance, "content", "users")
    assert dims.success
    assert dict(query(db, "SELECT id, email FROM lms.users")) == {i: _digest(e) for i, e in raw.items()}
    columns = {r[0] for r in query(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")}
    assert "first_name" not in columns and "last_name" in columns
    assert check_results(dims)["users_no_email_addresses"].passed

    assert materialize(instance, "activities", partition="2024-01-02").success
    summary = materialize(instance, "user_activity_summary")
    assert summary.success
    assert dict(query(db, "SELECT user_id, email FROM lms.user_activity_summary")) == {i: _digest(e) for i, e in raw.items()}
    assert query(db, "SELECT COUNT(*) FROM lms.user_activity_summary WHERE first_name IS NOT NULL")[0][0] == 0

    # the raw values appear in no table, no Dagster event or metadata of any run, and no working file
    values = set(_text_values(db))
    assert not values & set(raw.values()) and not values & first_names
    events = " ".join(str(e) for r in instance.get_runs() for e in instance.all_logs(r.run_id))
    assert "@example.com" not in events and "example.com" not in events
    leftovers = [p for p in (tmp_path / "dlt").rglob("*") if p.is_file() and b"@example.com" in p.read_bytes()]
    assert leftovers == []

    # the same value hashes to the same text on the next run: joins keep working
    assert materialize(instance, "users").success
    assert dict(query(db, "SELECT id, email FROM lms.users")) == {i: _digest(e) for i, e in raw.items()}


def test_hash_without_a_key_is_refused_in_one_sentence(lms_env, real_sandbox, instance, monkeypatch):
    monkeypatch.setenv("SOURCES__LMS__PII__USERS__EMAIL", "hash")
    monkeypatch.setenv("SOURCES__LMS__PII__AUDIENCE_MEMBERS__EMAIL", "keep")
    monkeypatch.delenv("SOURCES__LMS__PII_KEY", raising=False)
    db = lms_env(real_sandbox)
    result = materialize(instance, "users", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "sources.lms.pii asks to hash users.email but sources.lms.pii_key is not set: set SOURCES__LMS__PII_KEY" in str(
        failure.event_specific_data.error)
    assert not db.exists() or not query(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'users'")[0][0]


def test_a_bad_policy_is_refused(lms_env, real_sandbox, instance, monkeypatch):
    monkeypatch.setenv("SOURCES__LMS__PII__USERS__EMAIL", "mask")
    lms_env(real_sandbox)
    result = materialize(instance, "users", raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "SOURCES__LMS__PII__USERS__EMAIL is 'mask': set it to keep, hash or drop." in str(failure.event_specific_data.error)


def test_the_email_check_fails_when_an_email_address_remains(lms_env, real_sandbox, instance, monkeypatch):
    monkeypatch.setenv("SOURCES__LMS__PII__EMAIL", "drop")
    db = lms_env(real_sandbox)
    assert materialize(instance, "users", "audiences", "audience_members").success
    assert check_results(run_checks(instance, "users"))["users_no_email_addresses"].passed
    with duckdb.connect(str(db)) as con:  # an address that slipped in through another field, in any table
        con.execute("UPDATE lms.users SET ref = 'someone@example.org' WHERE id = (SELECT MIN(id) FROM lms.users)")
        con.execute("UPDATE lms.audience_members SET reference = 'other@example.org' WHERE _dlt_id = "
                    "(SELECT MIN(_dlt_id) FROM lms.audience_members)")
    check = check_results(run_checks(instance, "users"))["users_no_email_addresses"]
    assert not check.passed and check.metadata["values_like_an_email"].value == {"users.ref": 1, "audience_members.reference": 1}
    assert check.description == ("Values that look like an email address remain in audience_members.reference (1), users.ref (1): "
                                 "re-sync those tables under the policy.")


def test_members_emails_are_hashed_like_users_and_their_keys_kept(lms_env, real_sandbox, monkeypatch):
    # issue #20: the policy reaches the new listings; the same address hashes the same in both tables
    from lms_assets.sources.lms import lms_source
    from lms_assets.sources.lms.errors import LmsConfigError
    from lms_assets.warehouse import make_pipeline

    db = lms_env(real_sandbox)
    monkeypatch.setenv("SOURCES__LMS__PII__EMAIL", "hash")  # one setting for every resource that carries an email
    monkeypatch.setenv("SOURCES__LMS__PII_KEY", KEY)
    make_pipeline("lms_test").run(lms_source().with_resources("users", "audiences", "audience_members"))
    members = dict(query(db, "select user_id, email from lms.audience_members"))
    users = dict(query(db, "select id, email from lms.users"))
    assert members and all(email == users[user] for user, email in members.items())
    assert all("@" not in v for v in _text_values(db))
    some = real_sandbox.data.user(real_sandbox.data.members[0][0])
    assert members[some["id"]] == _digest(some["email"])
    monkeypatch.setenv("SOURCES__LMS__PII__AUDIENCE_MEMBERS__USER_ID", "drop")
    with pytest.raises(LmsConfigError, match="part of the merge key of audience_members"):
        lms_source()


@pytest.mark.parametrize("setting, refused", [
    ({"SOURCES__LMS__PII__USERS__EMAIL": "hash"}, "SOURCES__LMS__PII__USERS__EMAIL hashes the email of users but audience_members "
     "carries the same email and would keep it raw: set sources.lms.pii.email = \"hash\" (SOURCES__LMS__PII__EMAIL) to cover "
     "every resource, or sources.lms.pii.audience_members.email = \"keep\" to keep it there on purpose."),
    ({"SOURCES__LMS__PII__AUDIENCE_MEMBERS__EMAIL": "drop"}, "drops the email of audience_members but users carries the same email"),
    ({"SOURCES__LMS__PII__EMAIL": "hash", "SOURCES__LMS__PII__AUDIENCE_MEMBERS__EMAIL": "keep"}, None),  # kept on purpose
    ({"SOURCES__LMS__PII__EMAIL": "hash", "SOURCES__LMS__PII__USERS__EMAIL": "drop"}, None),  # per resource wins
    ({"SOURCES__LMS__PII__PHONE": "hash"}, "SOURCES__LMS__PII__PHONE names no kind of personal field: use one of email, "
     "first_name, last_name, or <resource>.<field>."),
])
def test_a_policy_that_protects_a_kind_in_one_resource_only_is_refused(monkeypatch, setting, refused):
    # issue #39: hashing "the email" of users while members keep it raw is refused, in one sentence naming both
    from lms_assets.sources.lms.errors import LmsConfigError
    from lms_assets.sources.lms.pii import PiiPolicy

    monkeypatch.setenv("SOURCES__LMS__PII_KEY", KEY)
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    if refused is None:
        policy = PiiPolicy.from_config()
        assert policy.policy("users", "email") in ("hash", "drop")
        return
    with pytest.raises(LmsConfigError) as raised:
        PiiPolicy.from_config()
    assert refused in str(raised.value)


@pytest.mark.slow  # every listing and the models
def test_the_email_hashed_by_kind_is_in_no_table_model_file_or_event(lms_env, real_sandbox, instance, monkeypatch, tmp_path):
    # issue #39: one setting, every resource that carries an email; the same person's hash in users and members
    monkeypatch.setenv("SOURCES__LMS__PII__EMAIL", "hash")
    monkeypatch.setenv("SOURCES__LMS__PII_KEY", KEY)
    db = lms_env(real_sandbox)
    data = real_sandbox.data
    by_id = {data.user(i)["id"]: data.user(i)["email"] for i in range(data.users)}
    raw = set(by_id.values())
    loads = ("content", "users", "audiences", "audience_members", "assignments", "enrolments")
    results = [materialize(instance, *loads), materialize(instance, "activities", first="2024-01-01", last="2024-01-02"),
               materialize(instance, "cpd_entries", first="2024-01-01", last="2024-01-02"),
               materialize(instance, "user_activity_daily", first="2024-01-01", last="2024-01-02"),
               materialize(instance, "user_activity_summary", "content_engagement", "assignment_compliance",
                           "assignment_compliance_by_audience", "assignment_compliance_by_assignment")]
    assert all(r.success for r in results)
    assert check_results(results[0])["users_no_email_addresses"].passed
    values = set(_text_values(db))
    assert not values & raw and not any("@example.com" in v for v in values)
    users = dict(query(db, "SELECT id, email FROM lms.users"))
    members = query(db, "SELECT user_id, email FROM lms.audience_members")
    assert members and all(email == users[user] == _digest(by_id[user]) for user, email in members if user in by_id)
    assert dict(query(db, "SELECT enrolment_id, user_email FROM lms.assignment_compliance LIMIT 5"))
    events = " ".join(str(e) for r in instance.get_runs() for e in instance.all_logs(r.run_id))
    assert "@example.com" not in events
    leftovers = [p for p in (tmp_path / "dlt").rglob("*") if p.is_file() and b"@example.com" in p.read_bytes()]
    assert leftovers == []
