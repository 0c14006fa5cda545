"""`lms/assignment_compliance`: who has not completed the training assigned to them, and who is overdue.

One row per enrolment that is not archived, of an assignment that is not deleted, with its user,
audience and content; the same rolled up per audience and per assignment in two tables beside it.
All three are rebuilt in one transaction, so a reader never sees the report and its roll-ups disagree.
"""


from datetime import datetime, timezone

from dagster import AssetExecutionContext, AutomationCondition, Failure, MaterializeResult, MetadataValue, asset

from lms_assets.defs.ingestion.checks import tables
from lms_assets.defs.keys import (
    ASSIGNMENT_COMPLIANCE,
    ASSIGNMENTS,
    AUDIENCES,
    CONTENT,
    ENROLMENTS,
    OWNERS,
    SUMMARIES_GROUP,
    USERS,
)
from lms_assets.defs.resources import WarehouseResource
from lms_assets.defs.summaries.assets import SUMMARY_AUTOMATION
from lms_assets.defs.summaries.charts import compliance_chart_markdown
from lms_assets.defs.summaries.metadata import table_metadata
from lms_assets.defs.summaries.queries import query, statements
from lms_assets.warehouse import timestamp_sql

# The summaries' automation, once every upstream has been loaded: a tenant that never loads assignments
# gets no failing compliance run each time its users refresh.
COMPLIANCE_AUTOMATION = (SUMMARY_AUTOMATION & ~AutomationCondition.any_deps_missing()).with_label(
    "after enrolments, assignments, audiences, users or content update, once all are loaded")
NEEDED = {"enrolments": "lms/enrolments", "assignments": "lms/assignments", "audiences": "lms/audiences",
          "users": "lms/users", "content": "lms/content"}
PERSONAL = ("email", "first_name", "last_name")


def refresh_compliance(client, as_of: datetime) -> None:
    present = {r[0] for r in client.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'lms' AND table_name = 'users'")}
    personal = {c: (f"u.{c}" if c in present else "CAST(NULL AS TEXT)") for c in PERSONAL}  # dropped by the PII policy
    with client.begin_transaction():
        for sql in statements("assignment_compliance", as_of=timestamp_sql(as_of), **personal):
            client.execute_sql(sql)


@asset(
    key=ASSIGNMENT_COMPLIANCE,
    deps=[ENROLMENTS, ASSIGNMENTS, AUDIENCES, USERS, CONTENT],
    automation_condition=COMPLIANCE_AUTOMATION,
    group_name=SUMMARIES_GROUP,
    owners=OWNERS,
    kinds={"sql"},
    description=(
        "One row per enrolment that is not archived (of an assignment not deleted): user, audience, content title, "
        "status, due date, days_overdue (whole days past the due date while open or overdue, as of the run). Beside "
        "it lms.assignment_compliance_by_audience and lms.assignment_compliance_by_assignment: enrolled, complete, "
        "open, overdue, scheduled, completion_rate (complete / enrolled)."
    ),
)
def assignment_compliance(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.sql_client() as client:
        missing = [asset_name for table, asset_name in NEEDED.items() if table not in tables(client)]
        if missing:
            raise Failure(description=f"The compliance report needs {', '.join(missing)}, not loaded yet: materialize "
                                      "them first (the lms_assignments_job and lms_dimensions_job), then this asset.",
                          allow_retries=False)
        refresh_compliance(client, datetime.now(timezone.utc))
        total, complete, overdue = client.execute_sql(query("assignment_compliance_totals"))[0]
        audiences = client.execute_sql(query("compliance_by_audience"))
        top = client.execute_sql(query("top_overdue", limit=10))
        standard = table_metadata(client, "assignment_compliance", total)
    table = "| user_id | email | content | audience | due | days overdue |\n|---|---|---|---|---|---|\n" + "\n".join(
        f"| {u} | {e or ''} | {c or ''} | {a or ''} | {d} | {n} |" for u, e, c, a, d, n in top)
    return MaterializeResult(metadata={
        **standard,
        "complete": MetadataValue.int(int(complete)),
        "overdue": MetadataValue.int(int(overdue)),
        "completion_rate": MetadataValue.float(round(int(complete) / int(total), 4) if total else 0.0),
        "by_audience": MetadataValue.md(compliance_chart_markdown([tuple(r) for r in audiences])),
        "top_overdue": MetadataValue.md(table),
    })
