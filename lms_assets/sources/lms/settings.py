"""Endpoints, paging facts and the documented fields of the LMS API.

The fields are those of Thrive Learning's public REST API reference (the API the seed sketch
describes); an API shaped like it may send more, which arrive as columns of their own.
"""

from dataclasses import dataclass
from datetime import timedelta

from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.common.schema.typing import TTableSchemaColumns

CONTENTS_PATH = "v1/contents"
USERS_PATH = "v1/users"
ACTIVITIES_PATH = "v1/activities"
AUDIENCES_PATH = "v1/audiences"
AUDIENCE_MEMBERS_PATH = "v1/audiences/{id}/members"
ASSIGNMENTS_PATH = "v1/assignments"
ENROLMENTS_PATH = "v1/assignments/{id}/enrolments"
CPD_ENTRIES_PATH = "v1/cpdEntries"

DATA_SELECTOR = "results"
PAGE_PARAM = "page"
PER_PAGE_PARAM = "perPage"
MAX_PER_PAGE = 1000  # the API's ceiling for perPage
MAX_PER_PAGE_ASSIGNMENTS = 100  # assignments and enrolments document perPage <= 100
DEFAULT_PER_PAGE = 200
# The list answer's envelope: {"pagination": {"totalResults", "totalPages", "page", "perPage"}, "results": [...]}.
PAGINATION_KEY = "pagination"
# The activity window's bounds. The API documents them as "after" / "before" (UTC) without
# saying whether they are inclusive, and its documented format is `YYYY-MM-DD hh:mm:ss`; the
# seed sketch sent ISO 8601, which stays the default (sources.lms.timestamp_format).
WINDOW_FROM_PARAM = "timestampFrom"
WINDOW_TO_PARAM = "timestampTo"
# CPD entries are bounded by entryDateFrom/entryDateTo, documented as `YYYY-MM-DD hh:mm:ss`;
# enrolments by updatedAtFrom (incremental on updatedAt).
CPD_FROM_PARAM = "entryDateFrom"
CPD_TO_PARAM = "entryDateTo"
UPDATED_FROM_PARAM = "updatedAtFrom"
# Enrolments are re-read from an hour before the newest `updatedAt` loaded: an enrolment updated
# while another assignment's listing was read can carry an older stamp than the newest one seen.
ENROLMENTS_LAG_S = 3600
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

AUDIENCE_FIELDS = {
    "id": "text", "name": "text", "reference": "text", "category": "text", "type": "text", "parent": "json",
}
# `audienceId` is not in the member record: the source adds it from the listing's path.
AUDIENCE_MEMBER_FIELDS = {"audienceId": "text", "userId": "text", "reference": "text", "email": "text"}
ASSIGNMENT_FIELDS = {
    "id": "text", "audienceId": "text", "primaryContentId": "text", "alternativeContentIds": "json",
    "completionPeriod": "double", "recurrence": "double", "isActive": "bool", "isDeleted": "bool",
    "createdAt": "timestamp", "updatedAt": "timestamp", "deletedAt": "timestamp",
}
ENROLMENT_FIELDS = {
    "id": "text", "userId": "text", "assignmentId": "text", "audienceId": "text", "primaryContentId": "text",
    "status": "text", "availableDate": "timestamp", "dueDate": "timestamp", "lastCompletedAt": "timestamp",
    "updatedAt": "timestamp",
}
CPD_ENTRY_FIELDS = {
    "logEntryId": "text", "userId": "text", "activity": "json", "category": "json", "entryDate": "timestamp",
    "durationMinutes": "double", "isVerified": "bool",
}
ENROLMENT_STATUSES = ("open", "overdue", "complete", "scheduled", "archived")

_NAMING = NamingConvention()


def column_name(field: str) -> str:
    return _NAMING.normalize_identifier(field)


def columns(fields: dict[str, str], key: tuple[str, ...] = ("id",)) -> TTableSchemaColumns:
    hints: TTableSchemaColumns = {column_name(f): {"data_type": t} for f, t in fields.items()}  # type: ignore[misc]
    for field in key:
        hints[column_name(field)]["nullable"] = False
    return hints


@dataclass(frozen=True)
class Listing:
    """One listing of the API: where it is, what identifies its records, how many a page may hold.

    `path` may name a parent (`{id}`); `key` is the record's identity as the API names it (a member
    has none of its own: the audience and the user); the reader checks it on every record.
    """

    name: str
    path: str
    key: tuple[str, ...] = ("id",)
    max_per_page: int = MAX_PER_PAGE

    @property
    def primary_key(self) -> list[str]:
        return [column_name(k) for k in self.key]


CONTENTS = Listing("content", CONTENTS_PATH)
USERS = Listing("users", USERS_PATH)
ACTIVITIES = Listing("activities", ACTIVITIES_PATH)
AUDIENCES = Listing("audiences", AUDIENCES_PATH)
AUDIENCE_MEMBERS = Listing("audience_members", AUDIENCE_MEMBERS_PATH, key=("userId",))
ASSIGNMENTS = Listing("assignments", ASSIGNMENTS_PATH, max_per_page=MAX_PER_PAGE_ASSIGNMENTS)
ENROLMENTS = Listing("enrolments", ENROLMENTS_PATH, max_per_page=MAX_PER_PAGE_ASSIGNMENTS)
CPD_ENTRIES = Listing("cpd_entries", CPD_ENTRIES_PATH, key=("logEntryId",))
LISTINGS = {listing.name: listing for listing in (CONTENTS, USERS, ACTIVITIES, AUDIENCES, AUDIENCE_MEMBERS,
                                                   ASSIGNMENTS, ENROLMENTS, CPD_ENTRIES)}


# Soft deletes of the dimensions: `deleted: true` from the API, or a row a complete listing no
# longer returns (marked by the refresh, see docs/reference.md).
SOFT_DELETE_COLUMNS: TTableSchemaColumns = {
    "is_deleted": {"data_type": "bool"},
    "deleted_at": {"data_type": "timestamp"},
}
CONTENT_COLUMNS: TTableSchemaColumns = {**columns(CONTENT_FIELDS), **SOFT_DELETE_COLUMNS}
USERS_COLUMNS: TTableSchemaColumns = {**columns(USERS_FIELDS), **SOFT_DELETE_COLUMNS}
ACTIVITIES_COLUMNS: TTableSchemaColumns = columns(ACTIVITIES_FIELDS)
ACTIVITIES_COLUMNS["date"]["nullable"] = False
AUDIENCE_COLUMNS: TTableSchemaColumns = {**columns(AUDIENCE_FIELDS), **SOFT_DELETE_COLUMNS}
AUDIENCE_MEMBER_COLUMNS: TTableSchemaColumns = {**columns(AUDIENCE_MEMBER_FIELDS, ("audienceId", "userId")),
                                                **SOFT_DELETE_COLUMNS}
ASSIGNMENT_COLUMNS: TTableSchemaColumns = {**columns(ASSIGNMENT_FIELDS), **SOFT_DELETE_COLUMNS}
ENROLMENT_COLUMNS: TTableSchemaColumns = columns(ENROLMENT_FIELDS)
CPD_ENTRY_COLUMNS: TTableSchemaColumns = columns(CPD_ENTRY_FIELDS, ("logEntryId",))
CPD_ENTRY_COLUMNS["entry_date"]["nullable"] = False

# OAuth 2.0 client credentials: the token endpoint and REST root of each documented region.
REGION_HOSTS = {
    "production": "public.api.learn.link",
    "production-mea": "public.api.mea.learn.tech",
    "staging": "public.api.learnstaging.link",
    "staging-mea": "public.api.meastaging.learn.tech",
}
TOKEN_PATH = "oauth2/token/{tenant_id}"
AUTH_MODES = ("basic", "oauth2")
