"""Asset keys, groups, owners and the API pool: each written once, imported everywhere else."""

from dagster import AssetKey

INGESTION_GROUP = "lms_ingestion"
SUMMARIES_GROUP = "lms_summaries"
OWNERS = ["team:data-engineering"]
API_POOL = "lms_api"  # every LMS load, to cap concurrent reads of the API
RESYNC_TAG = "lms/resync"  # "true" on a run of the dimensions: rebuild them from a complete listing


def lms_key(name: str) -> AssetKey:
    return AssetKey(["lms", name])


CONTENT = lms_key("content")
USERS = lms_key("users")
ACTIVITIES = lms_key("activities")
USER_ACTIVITY_DAILY = lms_key("user_activity_daily")
USER_ACTIVITY_SUMMARY = lms_key("user_activity_summary")
CONTENT_ENGAGEMENT = lms_key("content_engagement")
