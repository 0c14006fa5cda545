"""What every tenant shares by name: owners, the re-sync tag, its resources and tables.

A tenant's own keys and names come from its `Tenant` (`tenant.key("users")`, `tenant.pool`); the
first tenant's keys, for the demo and the tests, are theirs (`demo.py`, `lms_assets_tests/keys.py`).
"""

OWNERS = ["team:data-engineering"]
RESYNC_TAG = "lms/resync"  # "true" on a run of the dimensions: rebuild them from a complete listing

HISTORY = ("enrolments_history", "assignments_history", "audience_members_history", "users_history")
COMPLIANCE_MODELS = ("assignment_compliance", "assignment_compliance_by_audience", "assignment_compliance_by_assignment")

# The resources of each `@dlt_assets`, and the tables a complete listing soft-deletes from.
DIMENSION_RESOURCES = ("content", "users")
ASSIGNMENT_RESOURCES = ("audiences", "audience_members", "assignments", "enrolments")
SOFT_DELETED = frozenset({"content", "users", "audiences", "audience_members", "assignments"})
# Tables loaded by daily windows, with the column that places a row in its UTC day.
WINDOWED = {"activities": "date", "cpd_entries": "entry_date"}
