"""Reading back what a load wrote, straight from the DuckDB file (not through our code)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from lms_assets.sandbox import SandboxData


def query(path: Path, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def ids(path: Path, table: str) -> list[str]:
    return [r[0] for r in query(path, f"select id from lms.{table} order by id")]


def expected_activities(data: SandboxData, start: datetime, end: datetime) -> dict[str, int]:
    """The sandbox's activities with start <= date < end, as {id: epoch ms}."""
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    return {data.activity_id(i): ms for i, ms in enumerate(data.activity_ms) if lo <= ms < hi}


def pages_of_parts(data: SandboxData, parts: list[tuple[datetime, datetime]], per_page: int = 200) -> int:
    """Pages of reading each part of a window without totals: each asked a second wider, ending on one empty page."""
    ms = [(int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)) for lo, hi in parts]
    return sum(-(-len(data.activity_range(lo - 1000, hi + 1000)) // per_page) + 1 for lo, hi in ms)


def epoch_ms(value: str | None) -> int | None:
    """An API timestamp (ISO 8601, `Z`) as epoch milliseconds, to compare with what landed."""
    if value is None:
        return None
    return int(datetime.fromisoformat(value).timestamp() * 1000)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def as_json(value):
    return json.loads(value) if isinstance(value, str) else value


def row_count(path: Path, table: str) -> int:
    """Rows in lms.<table>; 0 when dlt never created it (it does so with the first row)."""
    try:
        return query(path, f"select count(*) from lms.{table}")[0][0]
    except (duckdb.CatalogException, duckdb.IOException):
        return 0


def pg(url: str, sql: str) -> list[tuple]:
    """Rows of `sql` on the PostgreSQL database at `url`."""
    import psycopg2

    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


SEED_RESOURCES = ("content", "users", "activities")


def load_source(*resources: str, pipeline: str = "lms_test", **kwargs):
    """Run the LMS source (`resources`, else the seed's three) into the test's warehouse, as a script would;
    `kwargs` are the source's. Returns the run's RequestStats."""
    from lms_assets.sources.lms import lms_source
    from lms_assets.sources.lms.stats import RequestStats
    from lms_assets.warehouse import make_pipeline

    stats = kwargs.pop("request_stats", None) or RequestStats()
    make_pipeline(pipeline).run(lms_source(request_stats=stats, **kwargs).with_resources(*(resources or SEED_RESOURCES)))
    return stats
