"""What the benchmark times, each run in a child process of its own (so peak RSS is its own).

`python -m bench.variants VARIANT BASE_URL START END DB` prints one JSON line of figures.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime

import orjson
import requests

USER, PASSWORD = "sandbox", "sandbox-password"


def own_peak_mib() -> float:
    """This process's peak RSS since its exec (VmHWM); `ru_maxrss` would include what the parent held at fork."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw(base_url: str, start: str, end: str, db: str) -> dict:
    """(a) The limit: every page of the window with a bare requests loop, parsed, kept in memory.

    Stops on the last page the answer's totals name (as ours does), else on the first empty page.
    """
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    per_page = int(os.environ.get("SOURCES__LMS__PER_PAGE", "200"))
    rows, page = 0, 1
    while True:
        r = session.get(f"{base_url}/v1/activities", params={
            "page": page, "perPage": per_page, "timestampFrom": start, "timestampTo": end})
        if r.status_code == 429:  # a rate-limited API: wait as told, then the same page again
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        r.raise_for_status()
        body = orjson.loads(r.content)
        batch = body["results"]
        rows += len(batch)
        if not batch or page >= body.get("pagination", {}).get("totalPages", page + 1):
            break
        page += 1
    return {"rows": rows}


def peer(base_url: str, start: str, end: str, db: str) -> dict:
    """(b) The seed sketch translated straight into dlt's rest_api (what a user would write first)."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source({
        "client": {"base_url": base_url, "auth": {"type": "http_basic", "username": USER, "password": PASSWORD}},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [{
            "name": "activities",
            "endpoint": {
                "path": "v1/activities", "data_selector": "results",
                "paginator": {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": None},
                "params": {"perPage": 200, "timestampFrom": start, "timestampTo": end},
            },
        }],
    })
    with tempfile.TemporaryDirectory() as wd:
        pipeline = dlt.pipeline("bench_peer", destination=dlt.destinations.duckdb(db), dataset_name="lms",
                                pipelines_dir=wd)
        pipeline.run(source)
    return {}


def ours(base_url: str, start: str, end: str, db: str) -> dict:
    """(c) This project's source and pipeline for the same window, without Dagster."""
    from lms_assets.sources.lms import lms_source
    from lms_assets.warehouse import Warehouse, make_pipeline

    os.environ.update(SOURCES__LMS__BASE_URL=base_url, SOURCES__LMS__USERNAME=USER, SOURCES__LMS__PASSWORD=PASSWORD,
                      DESTINATION__DUCKDB__CREDENTIALS=db)
    def peak() -> float:
        return round(own_peak_mib())

    with tempfile.TemporaryDirectory() as wd:
        pipeline = make_pipeline("bench_ours", working_dir=wd)
        source = lms_source(window_start=datetime.fromisoformat(start), window_end=datetime.fromisoformat(end))
        # the steps of pipeline.run one by one, to see which one sets the peak memory
        rss, steps = {"imports": peak()}, {}
        normalized = None
        for step in ("extract", "normalize", "load"):
            began = time.perf_counter()
            if step == "extract":
                pipeline.extract(source.with_resources("activities"))
            elif step == "load":  # as a run loads a slice: within the memory sized for its rows
                Warehouse.from_env().load(pipeline, sum((normalized.row_counts or {}).values()))
            else:
                normalized = pipeline.normalize()
            steps[step] = round(time.perf_counter() - began, 2)
            rss[step] = peak()
    return {"steps": steps, "peak_rss_after_mib": rss}


def dlt_only(base_url: str, start: str, end: str, db: str) -> dict:
    """(e) (c) without its read: the window's activities read untimed into the Arrow tables our source
    yields, then dlt's extract, normalize and load of them as (c) runs them. Its wall time less the read
    is what (c) costs beyond any read: start-up, imports and dlt's steps."""
    called = time.perf_counter()
    import dlt

    from lms_assets.sources.lms import settings
    from lms_assets.sources.lms.arrow import activities_table
    from lms_assets.sources.lms.dedup import declare_deduplicated, forget_deduplicated
    from lms_assets.warehouse import Warehouse, make_pipeline

    imported = time.perf_counter()
    os.environ["DESTINATION__DUCKDB__CREDENTIALS"] = db
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    tables, records, page, per_page = [], [], 1, settings.MAX_PER_PAGE
    lower, upper = datetime.fromisoformat(start), datetime.fromisoformat(end)
    while True:
        r = session.get(f"{base_url}/v1/activities", params={
            "page": page, "perPage": per_page, "timestampFrom": start, "timestampTo": end})
        if r.status_code == 429:  # a rate-limited API: wait as told, then the same page again
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        r.raise_for_status()
        body = orjson.loads(r.content)
        batch = body["results"] if isinstance(body, dict) else body
        if not batch:
            break
        for record in batch:
            record["date"] = datetime.fromisoformat(record["date"].replace("Z", "+00:00"))
        records.extend(r for r in batch if lower <= r["date"] < upper)  # the API's bounds may be inclusive
        page += 1
    size = settings.ARROW_BATCH_ROWS  # tables as our source yields them
    tables = [activities_table(records[i:i + size]) for i in range(0, len(records), size)]
    del records
    untimed = time.perf_counter() - imported

    @dlt.resource(name="activities", primary_key="id", write_disposition="merge",
                  columns=settings.ACTIVITIES_COLUMNS, max_table_nesting=0)
    def activities():
        forget_deduplicated("activities")
        yield from tables
        yield declare_deduplicated(activities_table([]))  # each id once, as our source declares it

    with tempfile.TemporaryDirectory() as wd:
        pipeline = make_pipeline("bench_dlt_only", working_dir=wd)
        steps = {}
        for step in ("extract", "normalize", "load"):
            began = time.perf_counter()
            if step == "extract":
                pipeline.extract(activities())
            elif step == "normalize":
                normalized = pipeline.normalize()
            else:
                Warehouse.from_env().load(pipeline, sum((normalized.row_counts or {}).values()))
            steps[step] = round(time.perf_counter() - began, 2)
    return {"untimed_read_s": untimed, "imports_s": imported - called, "steps": steps}


def main() -> None:
    variant, base_url, start, end, db = sys.argv[1:6]
    started = time.perf_counter()
    extra = {"raw": raw, "peer": peer, "ours": ours, "dlt-only": dlt_only}[variant](base_url, start, end, db)
    elapsed = time.perf_counter() - started
    peak_mib = own_peak_mib()
    print(json.dumps({"seconds": elapsed, "peak_rss_mib": peak_mib, **extra}))


if __name__ == "__main__":
    main()
