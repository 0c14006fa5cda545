"""`dagster/column_lineage` of the summary tables: which source column each summary column comes from.

Declared with the asset definitions (not computed per run): the SQL in `sql/` fixes it, and the
catalog shows it before anything runs.
"""

from dagster import AssetKey, TableColumnDep, TableColumnLineage

from lms_assets.tenant.tenant import Tenant


def _lineage(columns: dict[str, list[tuple[AssetKey, str]]]) -> TableColumnLineage:
    return TableColumnLineage(deps_by_column={
        column: [TableColumnDep(asset_key=key, column_name=name) for key, name in deps] for column, deps in columns.items()})


def lineages(tenant: Tenant) -> dict[str, TableColumnLineage]:
    """{summary table: its column lineage} against the tenant's own source assets."""
    ACTIVITIES, CONTENT, USERS = tenant.key("activities"), tenant.key("content"), tenant.key("users")  # noqa: N806 - read as constants
    activity_time = [(ACTIVITIES, "date")]

    daily = _lineage({
        "user_id": [(ACTIVITIES, "user")],
        "activity_date": activity_time,
        "activity_count": [(ACTIVITIES, "id")],
        "completed_count": [(ACTIVITIES, "type")],
        "distinct_contents": [(ACTIVITIES, "context_id")],
    })

    summary = _lineage({
        "user_id": [(USERS, "id")],
        "email": [(USERS, "email")],
        "first_name": [(USERS, "first_name")],
        "last_name": [(USERS, "last_name")],
        "activity_count": [(ACTIVITIES, "id"), (ACTIVITIES, "user")],
        "active_days": activity_time + [(ACTIVITIES, "user")],
        "first_activity_at": activity_time,
        "last_activity_at": activity_time,
        "last_activity_type": [(ACTIVITIES, "type"), (ACTIVITIES, "date")],
        "is_deleted": [(USERS, "is_deleted")],
    })

    engagement = _lineage({
        "content_id": [(CONTENT, "id")],
        "title": [(CONTENT, "title")],
        "type": [(CONTENT, "type")],
        "distinct_users": [(ACTIVITIES, "user"), (ACTIVITIES, "context_id")],
        "activity_count": [(ACTIVITIES, "id"), (ACTIVITIES, "context_id")],
        "completed_count": [(ACTIVITIES, "type"), (ACTIVITIES, "context_id")],
        "completion_rate": [(ACTIVITIES, "type"), (ACTIVITIES, "user"), (ACTIVITIES, "context_id")],
        "first_activity_at": activity_time,
        "last_activity_at": activity_time,
    })
    return {"user_activity_daily": daily, "user_activity_summary": summary, "content_engagement": engagement}
