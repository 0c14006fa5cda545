"""What each model's materialization shows beyond dagster-dbt's own: the standard table metadata with the
columns' descriptions, and the tables and charts a learning team looks at (top users, compliance by audience).
"""

from __future__ import annotations

from typing import Any

from dagster import AssetKey, MetadataValue

from lms_assets.tenant.models.charts import chart_markdown, compliance_chart_markdown
from lms_assets.tenant.models.history_chart import history_chart_markdown, overdue_table
from lms_assets.tenant.models.metadata import table_metadata
from lms_assets.tenant.models.project import manifest, source_columns
from lms_assets.tenant.models.queries import query
from lms_assets.tenant.tenant import Tenant
from lms_assets.warehouse import Warehouse, utc_day_sql


def _daily(client, variables: dict[str, str]) -> dict[str, Any]:
    first, end = variables.get("lms_first_day"), variables.get("lms_end_day")
    if not first:
        return {}
    rows, activities = client.execute_sql(query(client, "user_activity_daily_totals", first_day=first, end_day=end))[0]
    return {"dagster/partition_row_count": MetadataValue.int(int(rows)), "activities_covered": MetadataValue.int(int(activities)),
            "window_start": MetadataValue.text(f"{first}T00:00:00+00:00"), "window_end": MetadataValue.text(f"{end}T00:00:00+00:00")}


def _summary(client, variables: dict[str, str]) -> dict[str, Any]:
    _, active, deleted = client.execute_sql(query(client, "user_activity_summary_totals"))[0]
    top = client.execute_sql(query(client, "top_users", limit=10))
    days = client.execute_sql(query(client, "daily_activity", day=utc_day_sql("date")))
    table = "| user_id | email | activities | active days | last type |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {u} | {e} | {c} | {d} | {t} |" for u, e, c, d, t in top)
    return {"active_users": MetadataValue.int(int(active or 0)), "deleted_users": MetadataValue.int(int(deleted or 0)),
            "top_users": MetadataValue.md(table),
            "daily_activity": MetadataValue.md(chart_markdown([(d, int(u), int(a)) for d, u, a in days]))}


def _engagement(client, variables: dict[str, str]) -> dict[str, Any]:
    top = client.execute_sql(query(client, "top_contents", limit=10))
    table = "| content_id | title | distinct users | activities | completion rate |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {c} | {t} | {u} | {a} | {'' if r is None else f'{r:.2f}'} |" for c, t, u, a, r in top)
    return {"top_contents": MetadataValue.md(table)}


def _compliance(client, variables: dict[str, str]) -> dict[str, Any]:
    total, complete, overdue = client.execute_sql(query(client, "assignment_compliance_totals"))[0]
    audiences = client.execute_sql(query(client, "compliance_by_audience"))
    top = client.execute_sql(query(client, "top_overdue", limit=10))
    table = "| user_id | email | content | audience | due | days overdue |\n|---|---|---|---|---|---|\n" + "\n".join(
        f"| {u} | {e or ''} | {c or ''} | {a or ''} | {d} | {n} |" for u, e, c, a, d, n in top)
    soon = client.execute_sql(query(client, "top_due_soon", limit=10))
    due_soon = "| user_id | email | content | audience | due |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {u} | {e or ''} | {c or ''} | {a or ''} | {d} |" for u, e, c, a, d in soon)
    return {"complete": MetadataValue.int(int(complete)), "overdue": MetadataValue.int(int(overdue)),
            "completion_rate": MetadataValue.float(round(int(complete) / int(total), 4) if total else 0.0),
            "by_audience": MetadataValue.md(compliance_chart_markdown([tuple(r) for r in audiences])),
            "top_overdue": MetadataValue.md(table), "top_due_soon": MetadataValue.md(due_soon)}


def _compliance_daily(client, variables: dict[str, str]) -> dict[str, Any]:
    first, end = variables["lms_first_day"], variables["lms_end_day"]
    rows, overdue = client.execute_sql(query(client, "compliance_daily_totals", first_day=first, end_day=end))[0]
    history = [tuple(r) for r in client.execute_sql(query(client, "compliance_daily_history"))]
    return {"dagster/partition_row_count": MetadataValue.int(int(rows)), "overdue_in_window": MetadataValue.int(int(overdue)),
            "completion_by_audience": MetadataValue.md(history_chart_markdown(history)),
            "overdue_per_day": MetadataValue.md(overdue_table(history))}


EXTRAS = {"user_activity_daily": _daily, "assignment_compliance_daily": _compliance_daily, "user_activity_summary": _summary, "content_engagement": _engagement,
          "assignment_compliance": _compliance}


def _descriptions(model: str) -> dict[str, str]:
    """The model's documented columns; a history's columns that mirror its table take the table's descriptions."""
    node = next(n for n in manifest()["nodes"].values() if n["resource_type"] in ("model", "snapshot") and n["name"] == model)
    own = {name: column.get("description", "") for name, column in node["columns"].items()}
    return {**source_columns().get(model.removesuffix("_history"), {}), **own}


def extra_metadata(warehouse: Warehouse, tenant: Tenant, built: set[AssetKey], variables: dict[str, str]) -> dict[AssetKey, dict]:
    """{asset key: metadata} for the models just built, read in one connection after dbt has released the warehouse."""

    def read(client) -> dict[AssetKey, dict]:
        out = {}
        for key in built:
            model = key.path[-1]
            rows = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name(model)}")[0][0]
            extra = EXTRAS.get(model)
            out[key] = {**table_metadata(client, model, rows, _descriptions(model)), **(extra(client, variables) if extra else {})}
        return out

    return warehouse.read(read) if built else {}
