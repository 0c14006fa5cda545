"""Endpoints, paging facts and column hints of the LMS API."""

from dlt.common.schema.typing import TTableSchemaColumns

CONTENTS_PATH = "v1/contents"
USERS_PATH = "v1/users"
ACTIVITIES_PATH = "v1/activities"

DATA_SELECTOR = "results"
PAGE_PARAM = "page"
PER_PAGE_PARAM = "perPage"
MAX_PER_PAGE = 200  # the API's ceiling for perPage
# The API's window bounds: both inclusive, whole seconds, UTC.
WINDOW_FROM_PARAM = "timestampFrom"
WINDOW_TO_PARAM = "timestampTo"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ARROW_BATCH_ROWS = 10_000  # activities per Arrow table handed to dlt

# Types from the API's schema. `data` and `tags` stay JSON columns: `data` has keys that vary
# by activity type, and neither should become a child table.
# Soft deletes of the dimensions: a listing is complete, so a row it no longer returns was
# deleted upstream. Loads write is_deleted = false; the refresh marks the rest (see README).
SOFT_DELETE_COLUMNS: TTableSchemaColumns = {
    "is_deleted": {"data_type": "bool"},
    "deleted_at": {"data_type": "timestamp"},
}
CONTENT_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "text", "nullable": False},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp"},
    "is_official": {"data_type": "bool"},
    "tags": {"data_type": "json"},
    **SOFT_DELETE_COLUMNS,
}
USERS_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "text", "nullable": False},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp"},
    **SOFT_DELETE_COLUMNS,
}
ACTIVITIES_COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "text", "nullable": False},
    "date": {"data_type": "timestamp", "nullable": False},
    "type": {"data_type": "text"},
    "content_type": {"data_type": "text"},
    "context_id": {"data_type": "text"},
    "context_type": {"data_type": "text"},
    "data": {"data_type": "json"},
    "user": {"data_type": "text"},
}
