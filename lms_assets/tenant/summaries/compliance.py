"""`lms/assignment_compliance`: who has not completed the training assigned to them, and who is overdue.

One row per enrolment that is not archived, of an assignment that is not deleted, with its user,
audience and content; the same rolled up per audience and per assignment in two tables beside it.
All three are rebuilt in one transaction, so a reader never sees the report and its roll-ups disagree.
"""


from datetime import datetime, timezone

from dagster import AssetExecutionContext, AutomationCondition, Failure, MaterializeResult, MetadataValue, asset

from lms_assets.tenant.ingestion.checks import tables
from lms_assets.tenant.keys import OWNERS
from lms_assets.tenant.resources import WarehouseResource
from lms_assets.tenant.summaries.assets import SUMMARY_AUTOMATION
from lms_assets.tenant.summaries.charts import compliance_chart_markdown
from lms_assets.tenant.summaries.metadata import table_metadata
from lms_assets.tenant.summaries.queries import query, statements
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import timestamp_sql

# The summaries' automation, once every upstream has been loaded: a tenant that never loads assignments
# gets no failing compliance run each time its users refresh.
COMPLIANCE_AUTOMATION = (SUMMARY_AUTOMATION & ~AutomationCondition.any_deps_missing()).with_label(
    "after enrolments, assignments, audiences, users or content update, once all are loaded")
NEEDED = ("enrolments", "assignments", "audiences", "users", "content")
PERSONAL = ("email", "first_name", "last_name")


def refresh_compliance(client, as_of: datetime) -> None:
    present = {r[0] for r in client.execute_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'users'",
        client.fully_qualified_dataset_name(quote=False))}
    personal = {c: (f"u.{c}" if c in present else "CAST(NULL AS TEXT)") for c in PERSONAL}  # dropped by the PII policy
    with client.begin_transaction():
        for sql in statements(client, "assignment_compliance", as_of=timestamp_sql(as_of), **personal):
            client.execute_sql(sql)


def build_compliance(tenant: Tenant):
    @asset(
        key=tenant.key("assignment_compliance"),
        deps=[tenant.key(t) for t in NEEDED],
        automation_condition=COMPLIANCE_AUTOMATION,
        group_name=tenant.summaries_group,
        owners=OWNERS,
        kinds={"sql"},
        description=(
            "One row per enrolment that is not archived (of an assignment not deleted): user, audience, content title, "
            "status, due date, days_overdue (whole days past the due date while open or overdue, as of the run). Beside "
            f"it {tenant.dataset}.assignment_compliance_by_audience and {tenant.dataset}.assignment_compliance_by_assignment: "
            "enrolled, complete, "
            "open, overdue, scheduled, completion_rate (complete / enrolled)."
        ),
    )
    def assignment_compliance(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.sql_client(tenant.dataset) as client:
            missing = [tenant.key(table).to_user_string() for table in NEEDED if table not in tables(client)]
            if missing:
                raise Failure(description=f"The compliance report needs {', '.join(missing)}, not loaded yet: materialize "
                                          f"them first (the {tenant.name('assignments_job')} and {tenant.name('dimensions_job')}), "
                                          "then this asset.",
                              allow_retries=False)
            refresh_compliance(client, datetime.now(timezone.utc))
            total, complete, overdue = client.execute_sql(query(client, "assignment_compliance_totals"))[0]
            audiences = client.execute_sql(query(client, "compliance_by_audience"))
            top = client.execute_sql(query(client, "top_overdue", limit=10))
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

    return assignment_compliance
