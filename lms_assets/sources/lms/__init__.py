"""The LMS dlt source: content, users and activities, audiences and their members, assignments and
their enrolments, and CPD entries, each merged on its key.

Knows nothing of Dagster; runs from plain Python, the tests and the assets alike.
Config lives in section `sources.lms` (see docs/reference.md for every key and env var).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional, Sequence

import dlt
import orjson
from dlt.sources.helpers.rest_client import RESTClient

from lms_assets.sources.lms import settings
from lms_assets.sources.lms.activity_records import ActivityPageDecoder
from lms_assets.sources.lms.arrow import activities_table, quiet_kept_hints_notice
from lms_assets.sources.lms.auth import make_auth, region_base_url
from lms_assets.sources.lms.dedup import MERGE, IdLedger, declare_deduplicated, forget_deduplicated
from lms_assets.sources.lms.errors import LmsConfigError, LmsResponseError
from lms_assets.sources.lms.heap import older_objects_frozen
from lms_assets.sources.lms.listing import ListingReader
from lms_assets.sources.lms.malloc_arenas import limit_malloc_arenas
from lms_assets.sources.lms.pii import PiiPolicy
from lms_assets.sources.lms.progress import Progress, ProgressReporter
from lms_assets.sources.lms.read_ahead import ReadAhead
from lms_assets.sources.lms.responses import check_response, describe_request
from lms_assets.sources.lms.session import make_session
from lms_assets.sources.lms.shape import RecordShaper
from lms_assets.sources.lms.stats import RequestStats
from lms_assets.sources.lms.throttle import Throttle
from lms_assets.sources.lms.timestamps import as_utc, lower_bound, parse_instant, parse_start_date, upper_bound


# A column that changes type fails the load with a clear error instead of growing a variant
# column (`email__v_json`) nobody notices; new columns still arrive.
@dlt.source(name="lms", section="lms", max_table_nesting=0, schema_contract={"data_type": "freeze"})
def lms_source(
    base_url: str = dlt.config.value,
    username: Optional[str] = dlt.secrets.value,
    password: Optional[str] = dlt.secrets.value,
    start_date: str = dlt.config.value,
    auth: str = "basic",
    client_id: Optional[str] = dlt.secrets.value,
    client_secret: Optional[str] = dlt.secrets.value,
    tenant_id: Optional[str] = None,
    region: Optional[str] = None,
    token_url: Optional[str] = None,
    window_start: Optional[datetime] = None,
    window_end: Optional[datetime] = None,
    per_page: int = settings.DEFAULT_PER_PAGE,
    timestamp_format: str = settings.DEFAULT_TIMESTAMP_FORMAT,
    max_listing_reads: int = settings.MAX_LISTING_READS,
    max_concurrency: int = settings.DEFAULT_MAX_CONCURRENCY,
    requests_per_second: Optional[float] = None,
    max_attempts: int = 12,
    backoff_factor: float = 1.0,
    max_retry_delay: float = 60.0,
    request_timeout: float = 60.0,
    request_stats: Optional[RequestStats] = None,
    progress: Optional[Callable[[Progress], None]] = None,
    progress_every_s: float = 10.0,
    pii: Optional[PiiPolicy] = None,
    unlisted: Optional[dict[str, list[dict]]] = None,
    read_ahead: Optional[ReadAhead] = None,
) -> Sequence[Any]:
    """Every LMS resource; a run picks its own with `with_resources`.

    Activities and CPD entries are loaded for the half-open window `[window_start, window_end)`;
    without a window they run from `start_date` and dlt's incremental state carries the cursor forward.
    `auth` is `basic` (username = tenant id, password = API secret) or `oauth2` (client id and secret,
    a token from `region`'s endpoint for `tenant_id`, or from `token_url`); `region` also sets the REST root.
    `pii` defaults to the policy in `sources.lms.pii` (see pii.py), checked here, before any request.
    `unlisted` makes the dimensions a re-sync: each replaces its table (dlt `replace`) with the complete
    listing plus the rows given for it that the listing no longer returns, marked deleted.
    `read_ahead` (a range run's, with a window) starts reading the window's first days at once (read_ahead.py).
    """
    if region:
        base_url = region_base_url(region)
    if not base_url or not str(base_url).startswith(("http://", "https://")):
        raise LmsConfigError(f"sources.lms.base_url is {base_url!r}: set it to the API's http(s) URL (env SOURCES__LMS__BASE_URL).")
    if not 1 <= int(per_page) <= settings.MAX_PER_PAGE:
        raise LmsConfigError(f"sources.lms.per_page is {per_page}: set it between 1 and {settings.MAX_PER_PAGE} "
                             "(env SOURCES__LMS__PER_PAGE; the API accepts at most 1000).")
    if int(max_listing_reads) < 1:
        raise LmsConfigError(f"sources.lms.max_listing_reads is {max_listing_reads}: set it to 1 or more "
                             "(env SOURCES__LMS__MAX_LISTING_READS).")
    if int(max_concurrency) < 1:
        raise LmsConfigError(f"sources.lms.max_concurrency is {max_concurrency}: set it to 1 or more "
                             "(env SOURCES__LMS__MAX_CONCURRENCY), the requests one run keeps in flight.")
    if requests_per_second is not None and float(requests_per_second) <= 0:
        raise LmsConfigError(f"sources.lms.requests_per_second is {requests_per_second}: set it above 0, or leave it "
                             "unset for no client-side limit (env SOURCES__LMS__REQUESTS_PER_SECOND).")
    _check_format(timestamp_format)
    pii = pii if pii is not None else PiiPolicy.from_config()
    history_start = parse_start_date(start_date)
    start = as_utc(window_start) if window_start else history_start
    end = as_utc(window_end) if window_end else None
    if end is not None and end <= start:
        raise LmsConfigError(f"The activity window [{start.isoformat()}, {end.isoformat()}) is empty: its end must be after its start.")

    quiet_kept_hints_notice()
    limit_malloc_arenas()
    session = make_session(max_attempts, backoff_factor, max_retry_delay, request_timeout)
    # One throttle per RequestStats: a run that builds a source per slice of its window keeps one
    # rate window, one learned limit and one Retry-After pause across them.
    throttle = request_stats.throttle if request_stats is not None and request_stats.throttle is not None else \
        Throttle(int(max_concurrency), float(requests_per_second) if requests_per_second else None, max_retry_delay)
    throttle.install(session)
    # One set of credentials per RequestStats too: an OAuth token serves every slice and thread of a run.
    credentials = request_stats.auth if request_stats is not None and request_stats.auth is not None else \
        make_auth(auth, session, username, password, client_id, client_secret, tenant_id, region, token_url)
    if request_stats is not None:
        request_stats.throttle, request_stats.auth = throttle, credentials
    throttle.on_admit = getattr(credentials, "stamp", None)
    # Hooks run on every attempt, before dlt's retry decides: count first, renew a refused token once,
    # then check; a retryable status that survives every attempt is raised last.
    renew = [credentials.renew_on_401] if hasattr(credentials, "renew_on_401") else []
    hooks = ([request_stats] if request_stats is not None else []) + renew + [check_response, _raise_for_status]
    client = RESTClient(base_url=base_url, auth=credentials, session=session)
    reader = ListingReader(client, hooks, int(per_page), int(max_listing_reads), request_stats, int(max_concurrency),
                           decoders={settings.ACTIVITIES.name: ActivityPageDecoder()})
    reporter = ProgressReporter(progress, start, end or datetime.now(timezone.utc), progress_every_s)
    dims = {name: None if unlisted is None else unlisted.get(name, []) for name in ("content", "users")}
    audiences = _dimension(settings.AUDIENCES, settings.AUDIENCE_FIELDS, settings.AUDIENCE_COLUMNS, reader, pii,
                           deleted_flag=None, stats=request_stats)
    assignments = _dimension(settings.ASSIGNMENTS, settings.ASSIGNMENT_FIELDS, settings.ASSIGNMENT_COLUMNS, reader, pii,
                             deleted_flag="isDeleted", deleted_at="deletedAt", stats=request_stats)
    return [
        _dimension(settings.CONTENTS, settings.CONTENT_FIELDS, settings.CONTENT_COLUMNS, reader, pii, dims["content"],
                   stats=request_stats),
        _dimension(settings.USERS, settings.USERS_FIELDS, settings.USERS_COLUMNS, reader, pii, dims["users"],
                   stats=request_stats),
        _activities(reader, start, end, timestamp_format, reporter, read_ahead),
        audiences,
        _audience_members(audiences, reader, pii),
        assignments,
        _enrolments(assignments, reader, pii, timestamp_format),
        _cpd_entries(reader, pii, start, end, timestamp_format),
    ]


def _check_format(fmt: str) -> None:
    try:
        written = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc).strftime(str(fmt))
    except (TypeError, ValueError):
        written = ""
    if not all(part in written for part in ("2024", "01", "02", "03", "04", "05")):
        raise LmsConfigError(
            f"sources.lms.timestamp_format is {fmt!r}, which does not write a date and time to the second: "
            f"set it to a strftime format such as {settings.DOCUMENTED_TIMESTAMP_FORMAT!r} "
            "(env SOURCES__LMS__TIMESTAMP_FORMAT).")


def _dimension(listing: settings.Listing, fields: dict, columns: dict, reader: ListingReader, pii: PiiPolicy,
               previous: Optional[list[dict]] = None, deleted_flag: Optional[str] = "deleted",
               deleted_at: str = "updatedAt", stats: Optional[RequestStats] = None) -> Any:
    # Hand-built on dlt's RESTClient rather than a rest_api entry: a listing must be read again
    # when it moves while paged (see listing.py), which a declarative resource cannot do.
    # The personal-data policy runs first: a hashed or dropped value reaches nothing after it,
    # not even the shaper's error messages.
    # A re-sync (`previous` given) replaces the table: dlt loads a staging table and swaps it in one
    # transaction (insert-from-staging, see warehouse.py); rows the listing no longer returns are
    # carried from `previous` (as the warehouse holds them: hashed, dropped) and marked deleted.
    name = listing.name

    @dlt.resource(name=name, primary_key="id", write_disposition="merge" if previous is None else "replace",
                  columns=pii.columns(name, columns), max_table_nesting=0)
    def dimension() -> Iterator[Any]:
        shape = _shaper(name, fields, pii, deleted_flag, deleted_at)
        listed: dict = {}  # id -> the read of the listing it last came in
        last = 1
        for page in reader.read(listing):
            rows = [shape(pii(name, record)) for record in page]
            listed.update((r.get("id"), page.attempt) for r in rows)
            last = page.attempt
            yield rows
        # A listing that moved was read again: what only an abandoned read returned is gone upstream.
        # Those rows were merged with this load's id, so the refresh's deletes would miss them (load.py marks them).
        vanished = {i for i, attempt in listed.items() if attempt < last}
        if vanished and stats is not None:
            with stats.lock:
                stats.vanished.setdefault(name, set()).update(vanished)
        if previous is not None:
            yield [carry_deleted(row, columns, pii, name) for row in previous if row.get("id") not in listed]

    return dimension


def _shaper(name: str, fields: dict, pii: PiiPolicy, deleted_flag: Optional[str] = "deleted",
            deleted_at: str = "updatedAt", soft_deletes: bool = True) -> RecordShaper:
    return RecordShaper(name, {f: ("text" if pii.policy(name, f) == "hash" else t) for f, t in fields.items()},
                        soft_deletes=soft_deletes, deleted_flag=deleted_flag, deleted_at=deleted_at)


def _audience_members(audiences: Any, reader: ListingReader, pii: PiiPolicy) -> Any:
    # A transformer of the audiences listing: each page of audiences has its members read concurrently
    # (there is no tenant-wide member listing). Selected alone, dlt still reads audiences to feed it.
    name = "audience_members"

    @dlt.transformer(name=name, data_from=audiences, primary_key=("audience_id", "user_id"), write_disposition="merge",
                     columns=pii.columns(name, settings.AUDIENCE_MEMBER_COLUMNS), max_table_nesting=0)
    def audience_members(page: list[dict]) -> Iterator[Any]:
        shape = _shaper(name, settings.AUDIENCE_MEMBER_FIELDS, pii, deleted_flag=None)
        parents = [r["id"] for r in page if not r.get("is_deleted")]
        for audience_id, records in reader.read_each(settings.AUDIENCE_MEMBERS, parents):
            yield [shape(pii(name, {**record, "audienceId": audience_id})) for record in records]

    return audience_members


def _enrolments(assignments: Any, reader: ListingReader, pii: PiiPolicy, fmt: str) -> Any:
    # Per assignment (there is no tenant-wide enrolment listing), concurrently, incremental on
    # `updatedAt`: a run asks each listing from the newest stamp loaded, less an hour (settings).
    # Enrolments of a deleted assignment are not read; the compliance report leaves them out.
    name = "enrolments"

    @dlt.transformer(name=name, data_from=assignments, primary_key="id", write_disposition="merge",
                     columns=pii.columns(name, settings.ENROLMENT_COLUMNS), max_table_nesting=0)
    def enrolments(
        page: list[dict],
        updated: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "updated_at", initial_value=None, lag=settings.ENROLMENTS_LAG_S, range_start="closed",
            on_cursor_value_missing="include"),
    ) -> Iterator[Any]:
        shape = _shaper(name, settings.ENROLMENT_FIELDS, pii, soft_deletes=False)
        since = updated.start_value
        params = {settings.UPDATED_FROM_PARAM: lower_bound(since, fmt)} if since else {}
        parents = [r["id"] for r in page if not r.get("is_deleted")]
        for _, records in reader.read_each(settings.ENROLMENTS, parents, params):
            rows = [shape(pii(name, record)) for record in records]
            for row in rows:  # the cursor under its column's name (dlt's hint for `updatedAt` would be a second column)
                stamp = row.pop("updatedAt", None)
                row["updated_at"] = None if stamp is None else parse_instant(stamp, row.get("id"), "GET enrolments", "updatedAt")
            yield rows

    return enrolments


def _cpd_entries(reader: ListingReader, pii: PiiPolicy, start: datetime, end: Optional[datetime], fmt: str) -> Any:
    # Like activities: a window of whole seconds asked a second wider on each side, trimmed back to
    # [start, end) as instants by dlt's incremental. JSON rows: a day holds far fewer entries.
    name = "cpd_entries"

    @dlt.resource(name=name, primary_key="log_entry_id", write_disposition="merge",
                  columns=pii.columns(name, settings.CPD_ENTRY_COLUMNS), max_table_nesting=0)
    def cpd_entries(
        cursor: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "entry_date", initial_value=start, end_value=end, range_start="closed", range_end="open",
            on_cursor_value_missing="raise", primary_key=()),
    ) -> Iterator[Any]:
        lower = cursor.start_value or start
        upper = cursor.end_value or datetime.now(timezone.utc)
        params = {settings.CPD_FROM_PARAM: lower_bound(lower, fmt), settings.CPD_TO_PARAM: upper_bound(upper, fmt)}
        what = f"GET {settings.CPD_ENTRIES_PATH} for [{as_utc(lower).isoformat()}, {as_utc(upper).isoformat()})"
        shape = _shaper(name, settings.CPD_ENTRY_FIELDS, pii, soft_deletes=False)
        for page in reader.read(settings.CPD_ENTRIES, params, what):
            where = describe_request(page.response)
            rows = [shape(pii(name, record)) for record in page]
            for row in rows:  # the cursor under its column's name, as for enrolments
                row["entry_date"] = parse_instant(row.pop("entryDate", None), row.get("logEntryId"), where, "entryDate")
            yield rows

    return cpd_entries


def carry_deleted(row: dict, columns: dict, pii: PiiPolicy, resource: str) -> dict:
    """A row of the warehouse the listing no longer returns, as a record again: marked deleted, JSON parsed
    back, columns the policy drops left out."""
    out = {}
    for column, value in row.items():
        if column.startswith("_dlt") or pii.policy(resource, column) == "drop":
            continue
        if isinstance(value, str) and columns.get(column, {}).get("data_type") == "json":
            value = orjson.loads(value)
        out[column] = value
    if not out.get("is_deleted"):
        out["is_deleted"], out["deleted_at"] = True, datetime.now(timezone.utc)
    return out


def _activities(reader: ListingReader, start: datetime, end: Optional[datetime], fmt: str,
                reporter: ProgressReporter, read_ahead: Optional[ReadAhead] = None) -> Any:
    # The cursor must be compared as an instant (the API's `date` strings mix whole and
    # fractional seconds, which sort wrongly as text), and the API's whole-second bounds, of
    # undocumented inclusiveness, are asked a second wider on each side before dlt's
    # incremental trims the rows back to exactly [start, end). Pages are batched into Arrow
    # tables: dlt then writes them as files without its row-by-row normalize, the hot path of
    # a backfill (see bench/). A load whose ids were all distinct lets dlt's merge skip its
    # deduplication (dedup.py). A window's first days may have been read ahead (read_ahead.py):
    # they are taken first, then the rest of the window is read.
    def read(lower: datetime, upper: datetime, part: bool = False) -> Iterator[Any]:
        return _activity_batches(reader, lower, upper, fmt, part)

    if read_ahead is not None and end is not None:
        read_ahead.start(start, end, lambda lo, hi: read(lo, hi, part=True))

    @dlt.resource(name="activities", primary_key="id", write_disposition=MERGE,
                  columns=settings.ACTIVITIES_COLUMNS, max_table_nesting=0)
    def activities(
        cursor: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "date", initial_value=start, end_value=end, range_start="closed", range_end="open",
            on_cursor_value_missing="raise",
        ),
    ) -> Iterator[Any]:
        lower = cursor.start_value or start
        upper = cursor.end_value or datetime.now(timezone.utc)
        taken = read_ahead.take(lower, upper) if read_ahead is not None else None
        parts = [read(lower, upper)] if taken is None else \
            [taken[1]] + ([read(taken[0], upper, part=True)] if taken[0] < upper else [])
        ledger = IdLedger()
        forget_deduplicated("activities")
        reporter.begin()
        for part in parts:
            for item in part:
                if isinstance(item, IdLedger):
                    ledger.update(item)
                elif isinstance(item, tuple):
                    reporter.page(*item)
                else:
                    yield item
        reporter.finish()
        if ledger and ledger.all_distinct():  # (an empty window yields nothing: no table before its first row)
            yield declare_deduplicated(activities_table([]))

    return activities


def _activity_batches(reader: ListingReader, lower: datetime, upper: datetime, fmt: str, part: bool) -> Iterator[Any]:
    """The activities of `[lower, upper)` as Arrow tables, with (rows, latest date) for each page and, last,
    the ids they held. `part`: a part of the window dlt's incremental trims, whose rows it keeps inside itself."""
    batch: list[dict] = []
    ledger = IdLedger()
    with older_objects_frozen():  # the run's records are the collector's work, not the imports (heap.py)
        for lo, hi, page in reader.read_window(settings.ACTIVITIES, lower, upper, window_params(fmt), window_what):
            try:  # the fast path: every date is an ISO-8601 string with its offset
                dates = [datetime.fromisoformat(r["date"]) for r in page]
                if any(d.tzinfo is None for d in dates):
                    raise ValueError("naive")
            except (KeyError, TypeError, ValueError):
                where = describe_request(page.response)
                dates = [parse_instant(r.get("date"), r.get("id"), where) for r in page]
            for record, instant in zip(page, dates, strict=True):
                record["date"] = instant
            if part or (lo, hi) != (lower, upper):  # a day or part of the window: its rows only (its bounds reach a second past it)
                page = [r for r in page if lo <= r["date"] < hi]
            yield len(page), max((r["date"] for r in page), default=None)
            ledger.add(page)
            if batch and page and type(page[0]) is not type(batch[0]):  # a table holds records of one type
                table, batch = activities_table(batch), []
                yield table
            batch.extend(page)
            if len(batch) >= settings.ARROW_BATCH_ROWS:  # the records let go before the table waits to be taken
                table, batch = activities_table(batch), []
                yield table
        if batch:
            table, batch = activities_table(batch), []
            yield table
    yield ledger


def window_params(fmt: str):
    def params(lower: datetime, upper: datetime) -> dict:
        return {settings.WINDOW_FROM_PARAM: lower_bound(lower, fmt), settings.WINDOW_TO_PARAM: upper_bound(upper, fmt)}
    return params


def window_what(lower: datetime, upper: datetime) -> str:
    return f"GET {settings.ACTIVITIES_PATH} for [{as_utc(lower).isoformat()}, {as_utc(upper).isoformat()})"


def _raise_for_status(response, *args: Any, **kwargs: Any) -> None:
    response.raise_for_status()


__all__ = ["lms_source", "LmsResponseError", "RequestStats"]
