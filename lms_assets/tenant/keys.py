"""What every tenant shares by name (owners, the re-sync tag, its resources and tables), and the first tenant's keys.

A tenant's own keys and names come from its `Tenant` (`tenant.key("users")`, `tenant.pool`); the
constants below are those of the first tenant, prefix `lms`, for scripts, the demo and the tests.
"""

from dagster import AssetKey

from lms_assets.tenant.tenant import FIRST

OWNERS = ["team:data-engineering"]
RESYNC_TAG = "lms/resync"  # "true" on a run of the dimensions: rebuild them from a complete listing

INGESTION_GROUP = FIRST.ingestion_group
SUMMARIES_GROUP = FIRST.summaries_group
API_POOL = FIRST.pool


def lms_key(name: str) -> AssetKey:
    return FIRST.key(name)


CONTENT = lms_key("content")
USERS = lms_key("users")
ACTIVITIES = lms_key("activities")
USER_ACTIVITY_DAILY = lms_key("user_activity_daily")
USER_ACTIVITY_SUMMARY = lms_key("user_activity_summary")
CONTENT_ENGAGEMENT = lms_key("content_engagement")
AUDIENCES = lms_key("audiences")
AUDIENCE_MEMBERS = lms_key("audience_members")
ASSIGNMENTS = lms_key("assignments")
ENROLMENTS = lms_key("enrolments")
CPD_ENTRIES = lms_key("cpd_entries")
ASSIGNMENT_COMPLIANCE = lms_key("assignment_compliance")
HISTORY = ("enrolments_history", "assignments_history", "audience_members_history", "users_history")
COMPLIANCE_MODELS = ("assignment_compliance", "assignment_compliance_by_audience", "assignment_compliance_by_assignment")

# The resources of each `@dlt_assets`, and the tables a complete listing soft-deletes from.
DIMENSION_RESOURCES = ("content", "users")
ASSIGNMENT_RESOURCES = ("audiences", "audience_members", "assignments", "enrolments")
SOFT_DELETED = frozenset({"content", "users", "audiences", "audience_members", "assignments"})
# Tables loaded by daily windows, with the column that places a row in its UTC day.
WINDOWED = {"activities": "date", "cpd_entries": "entry_date"}
