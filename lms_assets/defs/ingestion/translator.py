"""How dagster-dlt names and describes the LMS resources as assets."""

from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from lms_assets.defs.keys import INGESTION_GROUP, OWNERS, lms_key

DESCRIPTIONS = {
    "content": "Learning content from the LMS API `/v1/contents`, merged on `id`; nested fields as JSON.",
    "users": ("LMS users from `/v1/users`, merged on `id`; positions, additional fields, tags and rank as JSON; "
              "`is_deleted` when the API flags a user deleted or stops listing it."),
    "activities": (
        "Learner activity from `/v1/activities`, one UTC day per partition: a run loads exactly the "
        "activities with window start <= `date` < window end, merged on `id`."
    ),
}


class LmsTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData):
        name = data.resource.name
        return super().get_asset_spec(data).replace_attributes(
            key=lms_key(name),
            deps=[],  # the API is the source; no phantom `lms_<name>` upstream
            group_name=INGESTION_GROUP,
            description=DESCRIPTIONS[name],
            owners=OWNERS,
            tags={"source": "lms_api"},
        )
