"""`make bench`: this project's load against the raw-download limit and the plain-dlt peer.

For each volume: start the sandbox (no faults), then time side by side, `--repeats` times each,
(a) raw download of every page, (b) the seed's straightforward dlt rest_api translation,
(c) this project's source+pipeline, (d) the same through `dagster asset materialize`.
Every timed load is verified (row count, distinct ids, id range) so a fast wrong load cannot pass.
Figures go to bench/results/bench-<volume>.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import requests

from lms_assets.sandbox.process import sandbox_process

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DAYS = 30
FIRST_DAY = date(2024, 1, 1)
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
START = f"{FIRST_DAY.isoformat()}T00:00:00+00:00"
END = f"{(LAST_DAY + timedelta(days=1)).isoformat()}T00:00:00+00:00"
API_START, API_END = START.replace("+00:00", "Z"), END.replace("+00:00", "Z")
PROFILE = "realistic"  # the real API's record shapes (the sandbox's default)


def _child(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run `cmd`; (wall seconds, peak RSS MiB of it and its children, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env or os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Both pipes drained at once (a child filling stderr cannot block while we read stdout), then
    # wait4 for this child's own peak RSS, which Popen.communicate() would reap away.
    drained: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, p=p: drained.__setitem__(n, p.read()))
               for n, p in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])} failed:\n{drained['err'].decode()[-3000:]}")
    return wall, usage.ru_maxrss / 1024, drained["out"].decode()


def _sandbox_facts(rows: int, days: int = DAYS) -> dict:
    """The lowest and highest activity id, and the activities of the first `days` days, computed in a child.

    Not here: a child's peak RSS starts at what this process holds when it forks it (Linux carries
    the RSS over exec into `ru_maxrss`), and the ids of 2M activities would add ~150 MiB to every
    variant's figure, the raw download's included.
    """
    code = (
        "import json; from datetime import datetime, timezone; from lms_assets.sandbox import SandboxData\n"
        f"d = SandboxData(profile={PROFILE!r}, activities={rows}, days={DAYS}, users=2000, contents=500)\n"
        f"ids = [d.activity_id(i) for i in range({rows})]\n"
        f"lo = int(datetime({FIRST_DAY.year}, {FIRST_DAY.month}, {FIRST_DAY.day}, tzinfo=timezone.utc).timestamp() * 1000)\n"
        f"n = sum(1 for ms in d.activity_ms if lo <= ms < lo + {days} * 86_400_000)\n"
        "print(json.dumps({'lo': min(ids), 'hi': max(ids), 'days_rows': n}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _id_range(rows: int) -> tuple[str, str]:
    facts = _sandbox_facts(rows)
    return facts["lo"], facts["hi"]


def _verify(db: Path, expected_rows: int, id_range: tuple[str, str]) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        n, distinct, lo, hi = con.execute(
            "SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM lms.activities").fetchone()
    want = (expected_rows, expected_rows, *id_range)
    if (n, distinct, lo, hi) != want:
        raise AssertionError(f"wrong load in {db}: {(n, distinct, lo, hi)} != {want}")


def _verify_days(db: Path, rows: int, days: int) -> None:
    """The first `days` days landed exactly: as many rows as the sandbox holds for them, no id twice."""
    want = _sandbox_facts(rows, days)["days_rows"]
    with duckdb.connect(str(db), read_only=True) as con:
        n, distinct = con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM lms.activities").fetchone()
    if (n, distinct) != (want, want):
        raise AssertionError(f"wrong load in {db}: {(n, distinct)} != {(want, want)}")


def _range_run(first: date, last: date, module: str = "lms_assets.definitions", asset: str = "lms/activities") -> list[str]:
    return [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", module,
            "--select", asset, "--partition-range", f"{first}...{last}"]


def _stats(base_url: str, reset: bool = False) -> dict:
    if reset:
        requests.post(f"{base_url}/_sandbox/reset", timeout=10)
        return {}
    return requests.get(f"{base_url}/_sandbox/stats", timeout=10).json()


def _env(base_url: str, db: Path, home: Path) -> dict:
    return {**os.environ, "SOURCES__LMS__BASE_URL": base_url, "SOURCES__LMS__USERNAME": "sandbox",
            "SOURCES__LMS__PASSWORD": "sandbox-password", "SOURCES__LMS__START_DATE": "2024-01-01",
            "DESTINATION__DUCKDB__CREDENTIALS": str(db), "DAGSTER_HOME": str(home),
            "LMS_PIPELINES_DIR": str(home / "dlt"), "LMS_DESTINATION": "duckdb"}


def _knobs(variant: str, rate: float | None) -> tuple[str, dict]:
    """`NAME[@PER_PAGE][#CONCURRENCY][%DAYS][+rps]` -> (NAME, env): `ours@1000` perPage 1000, `ours#1` one request in
    flight, `dagster%1` a commit per day (LMS_COMMIT_EVERY_DAYS), `ours+rps` the client-side limit set to the scenario's rate limit."""
    env = {}
    variant, _, commit_days = variant.partition("%")
    if commit_days:
        env["LMS_COMMIT_EVERY_DAYS"] = commit_days
    if variant.endswith("+rps"):
        variant = variant[:-4]
        env["SOURCES__LMS__REQUESTS_PER_SECOND"] = str(rate)
    variant, _, concurrency = variant.partition("#")
    if concurrency:
        env["SOURCES__LMS__MAX_CONCURRENCY"] = concurrency
    variant, _, per_page = variant.partition("@")
    env["SOURCES__LMS__PER_PAGE"] = per_page or "200"
    return variant, env


def run_variant(label: str, base_url: str, rows: int, tmp: Path, start=START, end=END, db=None,
                id_range: tuple[str, str] | None = None, rate: float | None = None) -> dict:
    variant, knobs = _knobs(label, rate)
    db = db or tmp / f"{label.replace('#', '_').replace('%', '_')}.duckdb"
    if db.exists() and variant != "daily":
        db.unlink()
    home = tmp / "home"
    _stats(base_url, reset=True)
    env = {**_env(base_url, db, home), **knobs}
    if variant == "dagster":
        wall, rss, _ = _child(_range_run(FIRST_DAY, LAST_DAY), env)
        figures = {"seconds": wall, "peak_rss_mib": rss}
    elif variant == "dagster-null":
        wall, rss, _ = _child(_range_run(FIRST_DAY, LAST_DAY, "bench.null_defs", "bench/null"), env)
        figures = {"seconds": wall, "peak_rss_mib": rss}
    elif variant in ("week", "two-weeks-at-once"):
        # issue #13: two 7-day range runs launched together, against one of them alone
        weeks = [(FIRST_DAY, FIRST_DAY + timedelta(days=6))] + (
            [(FIRST_DAY + timedelta(days=7), FIRST_DAY + timedelta(days=13))] if variant != "week" else [])
        started = time.perf_counter()
        outcomes: list = [None] * len(weeks)
        threads = [threading.Thread(target=lambda i=i, w=w: outcomes.__setitem__(i, _child(_range_run(*w), env)))
                   for i, w in enumerate(weeks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if any(o is None for o in outcomes):
            raise RuntimeError(f"{variant}: a range run failed")
        figures = {"seconds": time.perf_counter() - started, "peak_rss_mib": max(o[1] for o in outcomes),
                   "days": 7 * len(weeks)}
    else:
        api = {"raw": (API_START, API_END), "peer": (API_START, API_END)}
        s, e = api.get(variant, (start, end))
        name = "ours" if variant == "daily" else variant
        wall, rss, out = _child([sys.executable, "-m", "bench.variants", name, base_url, s, e, str(db)], env)
        figures = json.loads(out.strip().splitlines()[-1])
        # every variant timed the same way as (d): the child process's wall time, start-up included;
        # the time inside it, after imports, is kept beside it
        figures.update(inner_seconds=figures["seconds"], seconds=wall)
        if variant == "dlt-only":  # its untimed read left out: start-up, imports and dlt's steps
            figures["seconds"] = wall - figures["untimed_read_s"]
            figures["startup_imports_s"] = wall - figures["inner_seconds"] + figures["imports_s"]
    served = _stats(base_url)
    figures["requests"] = served["requests"]
    figures["refused_429"] = served["by_status"].get("429", 0)
    figures["max_in_flight"] = served.get("max_in_flight")
    figures["max_per_second"] = served.get("max_per_second")
    if variant == "raw":
        if figures["rows"] != rows:
            raise AssertionError(f"raw download saw {figures['rows']} rows, not {rows}")
    elif variant in ("week", "two-weeks-at-once"):
        _verify_days(db, rows, figures["days"])
    elif variant not in ("daily", "dagster-null"):
        _verify(db, rows, id_range or _id_range(rows))
    figures["rows_per_s"] = rows / figures["seconds"] if variant not in ("daily", "dagster-null") else None
    return figures


def summarize(samples: list[dict]) -> dict:
    secs = [s["seconds"] for s in samples]
    return {
        "median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
        "peak_rss_mib": max(s["peak_rss_mib"] for s in samples),
        "requests": samples[-1]["requests"], "refused_429": samples[-1]["refused_429"],
        "max_in_flight": samples[-1]["max_in_flight"], "max_per_second": samples[-1]["max_per_second"],
        "samples": samples,
    }


def definitions_load_seconds() -> float:
    code = ("import time, dagster; t = time.perf_counter(); import lms_assets.definitions as d; "
            "d.defs.resolve_asset_graph(); print(time.perf_counter() - t)")
    best = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, capture_output=True, text=True,
                             check=True)
        best.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(best)


def _scenario(name: str) -> tuple[list[str], float | None]:
    """`0ms`, `40ms` (latency per request) or `25rps` (the API's rate limit), `-nototals` appended for answers
    without totals (the seed's API): sandbox arguments and the rate."""
    base, _, extra = name.partition("-")
    flags = ["--no-totals"] if extra == "nototals" else []
    if base.endswith("rps"):
        return ["--rate-limit", base[:-3], *flags], float(base[:-3])
    return ["--latency-ms", base.removesuffix("ms"), *flags], None


def bench_volume(rows: int, variants: list[str], repeats: int, peer_max: int, daily: bool, scenario: str = "0ms") -> dict:
    result: dict = {"activities": rows, "days": DAYS, "scenario": scenario, "variants": {}}
    sandbox_args, rate = _scenario(scenario)
    with tempfile.TemporaryDirectory(prefix="lms-bench-") as tmpdir, sandbox_process(
            "--activities", str(rows), "--days", str(DAYS), "--users", "2000", "--contents", "500",
            "--fault-rate", "0", "--page-cache-mib", "4096", "--profile", PROFILE, *sandbox_args, timeout=600) as base_url:
        tmp = Path(tmpdir)
        id_range = _id_range(rows)
        (tmp / "home").mkdir()
        (tmp / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        subprocess.run([str(Path(sys.executable).parent / "dagster"), "instance", "migrate"],
                       env=_env(base_url, tmp / "x.duckdb", tmp / "home"), capture_output=True, check=True)
        # One untimed pass first: the sandbox builds and caches its pages, so every variant reads
        # the API at the same speed (the real API does not get faster on the second read either).
        if not rate:  # (a rate-limited warm-up would only cost time: pages are cached by then)
            run_variant("raw", base_url, rows, tmp)
        for variant in variants:
            if (variant == "peer" and rows > peer_max) or (variant.endswith("+rps") and not rate):
                continue  # the slow peer on large volumes; a client-side limit without an API limit to match
            samples = []
            for i in range(repeats):
                samples.append(run_variant(variant, base_url, rows, tmp, id_range=id_range, rate=rate))
                print(f"  {rows:>9} {scenario:>6} {variant:<12} run {i + 1}: {samples[-1]['seconds']:7.2f} s", flush=True)
            result["variants"][variant] = summarize(samples)
        if daily:
            one_day = ("2024-01-15T00:00:00+00:00", "2024-01-16T00:00:00+00:00")
            empty, full = tmp / "daily-empty.duckdb", tmp / "ours.duckdb"
            on_empty = [run_variant("daily", base_url, rows, tmp, *one_day, db=empty) for _ in range(repeats)]
            if full.exists():
                on_full = [run_variant("daily", base_url, rows, tmp, *one_day, db=full) for _ in range(repeats)]
                result["daily_run"] = {"empty_s": statistics.median(s["seconds"] for s in on_empty),
                                       "with_history_s": statistics.median(s["seconds"] for s in on_full),
                                       "history_rows": rows}
    v = result["variants"]
    med = {k: x["median_s"] for k, x in v.items()}
    result["ratios"] = {
        "c/a": med["ours"] / med["raw"] if {"ours", "raw"} <= med.keys() else None,
        "c/b": med["ours"] / med["peer"] if {"ours", "peer"} <= med.keys() else None,
        "d/c": med["dagster"] / med["ours"] if {"dagster", "ours"} <= med.keys() else None,
        "d/a": med["dagster"] / med["raw"] if {"dagster", "raw"} <= med.keys() else None,
        "c@1000/a@1000": med["ours@1000"] / med["raw@1000"] if {"ours@1000", "raw@1000"} <= med.keys() else None,
        "c@1000/c": med["ours@1000"] / med["ours"] if {"ours@1000", "ours"} <= med.keys() else None,
    }
    if {"raw", "dlt-only", "dagster-null"} <= v.keys():
        result["floors"] = floors(v)
    return result


def floors(v: dict) -> dict:
    """What (c) and (d) cannot go below with this project's code taking no time at all.

    (c) >= (a)'s read (its time in the process, start-up left out) + (e) (start-up, imports, dlt's
    steps); (d) - (c) >= (f) less (e)'s start-up and imports, which (f) pays too.
    """
    read = statistics.median(s["inner_seconds"] for s in v["raw"]["samples"])
    startup = statistics.median(s["startup_imports_s"] for s in v["dlt-only"]["samples"])
    c = read + v["dlt-only"]["median_s"]
    d_minus_c = v["dagster-null"]["median_s"] - startup
    raw = v["raw"]["median_s"]
    return {"c_s": c, "c/a": c / raw, "d-c_s": d_minus_c, "d_s": c + d_minus_c, "d/a": (c + d_minus_c) / raw,
            "read_s": read, "startup_imports_s": startup}


def print_table(results: list[dict], definitions_s: float) -> None:
    print(f"\n{'activities':>10} {'api':>6} {'variant':<12} {'median s':>9} {'spread s':>13} {'rows/s':>10} "
          f"{'peak MiB':>9} {'requests':>9} {'429s':>6} {'in flight':>9} {'max/s':>6}")
    for r in results:
        for name, v in r["variants"].items():
            spread = f"{v['min_s']:.2f}-{v['max_s']:.2f}"
            print(f"{r['activities']:>10} {r['scenario']:>6} {name:<12} {v['median_s']:>9.2f} {spread:>13} "
                  f"{r['activities'] / v['median_s']:>10.0f} {v['peak_rss_mib']:>9.0f} {v['requests']:>9} "
                  f"{v['refused_429']:>6} {v['max_in_flight']!s:>9} {v['max_per_second']!s:>6}")
        ratios = ", ".join(f"{k} = {x:.2f}" for k, x in r["ratios"].items() if x is not None)
        print(f"{'':>10} ratios: {ratios}")
        if "floors" in r:
            f = r["floors"]
            print(f"{'':>10} floors, this project's code taking no time: c >= {f['c_s']:.2f} s (c/a >= {f['c/a']:.2f}), "
                  f"d - c >= {f['d-c_s']:.2f} s, d >= {f['d_s']:.2f} s (d/a >= {f['d/a']:.2f})")
        if "daily_run" in r:
            d = r["daily_run"]
            print(f"{'':>10} daily run: {d['empty_s']:.2f} s on an empty warehouse, {d['with_history_s']:.2f} s "
                  f"with {d['history_rows']} activities of history ({d['with_history_s'] / d['empty_s']:.2f}x)")
    print(f"definitions load beyond `import dagster`: {definitions_s:.2f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--volumes", default="200000", help="activity volumes, comma separated (e.g. 200000,1000000,2000000)")
    p.add_argument("--variants", default="raw,peer,ours,dagster,dlt-only,dagster-null,raw@1000,ours@1000",
                   help="raw, peer, ours, dagster, dlt-only ((c) without its read), dagster-null (a range run that does "
                        "nothing), week (one 7-day range run), two-weeks-at-once (two 7-day range runs "
                        "launched together); NAME@N with perPage N (default 200), NAME#N with N requests in flight, "
                        "NAME%%N committing every N days, NAME+rps with the client-side limit set to the scenario's rate")
    p.add_argument("--scenarios", default="0ms",
                   help="the API: latency per request (0ms, 40ms) or a rate limit (25rps), -nototals appended for answers "
                        "without totals (40ms-nototals), comma separated")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--peer-max", type=int, default=200_000, help="skip the slow peer above this volume")
    p.add_argument("--daily", action="store_true", help="also time a one-day run on an empty and a full warehouse")
    args = p.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in (int(v) for v in args.volumes.split(",")):
        for scenario in args.scenarios.split(","):
            r = bench_volume(rows, args.variants.split(","), args.repeats, args.peer_max, args.daily, scenario)
            (RESULTS / f"bench-{rows}-{scenario}.json").write_text(json.dumps(r, indent=2, default=str))
            results.append(r)
    defs_s = definitions_load_seconds()
    (RESULTS / "definitions.json").write_text(json.dumps({"definitions_load_s": defs_s}))
    print_table(results, defs_s)
    shutil.rmtree(ROOT / "bench" / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
