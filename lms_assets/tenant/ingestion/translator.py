"""How dagster-dlt names and describes the LMS resources as assets."""

from dagster import TableColumn, TableSchema
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from lms_assets.tenant.keys import OWNERS
from lms_assets.tenant.models.project import source_columns
from lms_assets.tenant.tenant import Tenant

DESCRIPTIONS = {
    "content": "Learning content from the LMS API `/v1/contents`, merged on `id`; nested fields as JSON.",
    "users": ("LMS users from `/v1/users`, merged on `id`; positions, additional fields, tags and rank as JSON; "
              "`is_deleted` when the API flags a user deleted or stops listing it."),
    "activities": (
        "Learner activity from `/v1/activities`, one UTC day per partition: a run loads exactly the "
        "activities with window start <= `date` < window end, merged on `id`."
    ),
    "audiences": "Audiences and structures from `/v1/audiences`, merged on `id`; `parent` as JSON; soft-deleted when no longer listed.",
    "audience_members": ("Members of each audience from `/v1/audiences/{id}/members`, merged on (`audience_id`, `user_id`); "
                         "soft-deleted when an audience no longer lists them."),
    "assignments": ("Assignments from `/v1/assignments` (a bare JSON array, perPage <= 100), merged on `id`; `is_deleted` "
                    "when the API flags one deleted or stops listing it."),
    "enrolments": ("Enrolments of every assignment from `/v1/assignments/{id}/enrolments`, read concurrently and "
                   "incrementally on `updatedAt` (an hour's lag), merged on `id`; status open, overdue, complete, "
                   "scheduled or archived."),
    "cpd_entries": (
        "CPD log entries from `/v1/cpdEntries`, one UTC day per partition: a run loads exactly the entries with "
        "window start <= `entryDate` < window end, merged on `logEntryId`."
    ),
}


class LmsTranslator(DagsterDltTranslator):
    def __init__(self, tenant: Tenant):
        self.tenant = tenant

    def get_asset_spec(self, data: DltResourceTranslatorData):
        name = data.resource.name
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(
            key=self.tenant.key(name),
            deps=[],  # the API is the source; no phantom `lms_<name>` upstream
            group_name=self.tenant.ingestion_group,
            description=DESCRIPTIONS[name],
            owners=OWNERS,
            tags={"source": "lms_api"},
            # the columns as the catalog shows them before the first load: names and descriptions from sources.yml
            metadata={**spec.metadata, "dagster/column_schema": TableSchema(columns=[
                TableColumn(name=column, type="", description=text) for column, text in source_columns().get(name, {}).items()])},
        )
