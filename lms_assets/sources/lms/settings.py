"""Endpoints, paging facts and the documented fields of the LMS API.

The fields are those of Thrive Learning's public REST API reference (the API the seed sketch
describes); an API shaped like it may send more, which arrive as columns of their own.
"""

from datetime import timedelta

from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.common.schema.typing import TTableSchemaColumns

CONTENTS_PATH = "v1/contents"
USERS_PATH = "v1/users"
ACTIVITIES_PATH = "v1/activities"

DATA_SELECTOR = "results"
PAGE_PARAM = "page"
PER_PAGE_PARAM = "perPage"
MAX_PER_PAGE = 1000  # the API's ceiling for perPage
DEFAULT_PER_PAGE = 200
# The list answer's envelope: {"pagination": {"totalResults", "totalPages", "page", "perPage"}, "results": [...]}.
PAGINATION_KEY = "pagination"
# The activity window's bounds. The API documents them as "after" / "before" (UTC) without
# saying whether they are inclusive, and its documented format is `YYYY-MM-DD hh:mm:ss`; the
# seed sketch sent ISO 8601, which stays the default (sources.lms.timestamp_format).
WINDOW_FROM_PARAM = "timestampFrom"
WINDOW_TO_PARAM = "timestampTo"
DEFAULT_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DOCUMENTED_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
# Asked beyond each side of a window, so that whole-second bounds read either way (inclusive or
# exclusive) cover it; the rows are trimmed back to [start, end) as instants.
BOUND_MARGIN = timedelta(seconds=1)
MAX_LISTING_READS = 3  # reads of a listing that changed while it was paged, before failing
DEFAULT_MAX_CONCURRENCY = 8  # requests one run keeps in flight
ARROW_BATCH_ROWS = 10_000  # activities per Arrow table handed to dlt

# Documented fields as the API names them, with the dlt type each lands as. Nested values are
# JSON columns (never child tables); numbers are `double` (JSON has one number type, and the API
# writes `0` on one record and `0.85` on the next); timestamps are instants.
CONTENT_FIELDS = {
    "id": "text", "title": "text", "description": "text", "tags": "json", "type": "text",
    "createdAt": "timestamp", "updatedAt": "timestamp", "author": "text", "isOfficial": "bool",
    "duration": "json", "contentHistory": "json",
}
USERS_FIELDS = {
    "id": "text", "ref": "text", "firstName": "text", "lastName": "text", "email": "text", "role": "text",
    "status": "text", "positions": "json", "additionalFields": "json", "languageCode": "text",
    "deleted": "bool", "compliance": "double", "level": "double", "firstLogin": "timestamp",
    "lastLogin": "timestamp", "createdAt": "timestamp", "updatedAt": "timestamp", "tags": "json",
    "rank": "json", "timeZone": "text",
}
ACTIVITIES_FIELDS = {
    "id": "text", "user": "text", "type": "text", "name": "text", "date": "timestamp",
    "contextId": "text", "contextType": "text", "data": "json", "with": "json",
    "contentType": "text",  # the seed sketch's field; the real API does not document it
}

_NAMING = NamingConvention()


def column_name(field: str) -> str:
    return _NAMING.normalize_identifier(field)


def columns(fields: dict[str, str]) -> TTableSchemaColumns:
    hints: TTableSchemaColumns = {column_name(f): {"data_type": t} for f, t in fields.items()}  # type: ignore[misc]
    hints["id"]["nullable"] = False
    return hints


# Soft deletes of the dimensions: `deleted: true` from the API, or a row a complete listing no
# longer returns (marked by the refresh, see README).
SOFT_DELETE_COLUMNS: TTableSchemaColumns = {
    "is_deleted": {"data_type": "bool"},
    "deleted_at": {"data_type": "timestamp"},
}
CONTENT_COLUMNS: TTableSchemaColumns = {**columns(CONTENT_FIELDS), **SOFT_DELETE_COLUMNS}
USERS_COLUMNS: TTableSchemaColumns = {**columns(USERS_FIELDS), **SOFT_DELETE_COLUMNS}
ACTIVITIES_COLUMNS: TTableSchemaColumns = columns(ACTIVITIES_FIELDS)
ACTIVITIES_COLUMNS["date"]["nullable"] = False
