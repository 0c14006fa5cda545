"""`make bench-models`: what a model run costs, the sensor's daily update and the compliance rebuild.

Starts the sandbox at its default size (realistic records, no faults), loads content, users, 30 days of
activities and the assignment listings once, then times each as its own `dagster asset materialize`
process (a run launched by the sensor is a process of its own): (1) the sensor's daily update, one
activity day's `user_activity_daily` partition and then `user_activity_summary`; (2) the compliance
rebuild; and the history's cost (issue #35): (3) the assignment listings' load alone, (4) the history's
snapshots after it, (5) one day of `assignment_compliance_daily`. `--root` runs the same against another checkout (`git worktree add /tmp/old <commit>`), so
the figures before and after a change come from one machine in one sitting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lms_assets.sandbox.process import sandbox_process

ROOT = Path(__file__).resolve().parent.parent
DAGSTER = str(Path(sys.executable).parent / "dagster")
START, DAYS = "2024-01-01", 30
COMPLIANCE = ("lms/assignment_compliance", "lms/assignment_compliance_by_audience", "lms/assignment_compliance_by_assignment")
HISTORY = ("lms/enrolments_history", "lms/assignments_history", "lms/audience_members_history", "lms/users_history")
ASSIGNMENT_LOADS = "lms/audiences,lms/audience_members,lms/assignments,lms/enrolments"
FIGURES = ("daily_partition_s", "summary_s", "compliance_rebuild_s", "assignment_load_s", "history_snapshots_s", "compliance_day_s")


def _materialize(root: Path, env: dict, select: str, partition: str | None = None, partition_range: str | None = None) -> float:
    cmd = [DAGSTER, "asset", "materialize", "-m", "lms_assets.definitions", "--select", select]
    cmd += ["--partition", partition] if partition else []
    cmd += ["--partition-range", partition_range] if partition_range else []
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{select} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def _existing(root: Path, env: dict, keys: tuple[str, ...]) -> str:
    """The compliance keys the checkout defines (the roll-ups are assets of their own since the dbt models)."""
    code = ("from lms_assets.definitions import defs; g = defs.resolve_asset_graph(); "
            "print(','.join(k.to_user_string() for k in g.get_all_asset_keys()))")
    keys_defined = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    defined = set(keys_defined.stdout.strip().split(","))
    return ",".join(k for k in keys if k in defined)


def bench(root: Path, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp, sandbox_process(
            "--start", START, "--days", str(DAYS), "--fault-rate", "0", "--password", "bench-pw") as base_url:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {**os.environ, "PYTHONPATH": str(root), "DAGSTER_HOME": str(home), "SOURCES__LMS__BASE_URL": base_url,
               "SOURCES__LMS__USERNAME": "sandbox", "SOURCES__LMS__PASSWORD": "bench-pw", "SOURCES__LMS__START_DATE": START,
               "DESTINATION__DUCKDB__CREDENTIALS": str(Path(tmp) / "warehouse.duckdb"), "LMS_PIPELINES_DIR": str(Path(tmp) / "dlt")}
        last = f"2024-01-{DAYS:02d}"
        _materialize(root, env, f"lms/content,lms/users,{ASSIGNMENT_LOADS}")
        _materialize(root, env, "lms/activities", partition_range=f"{START}...{last}")
        compliance = _existing(root, env, COMPLIANCE)
        history = _existing(root, env, HISTORY)
        out: dict[str, list[float]] = {name: [] for name in FIGURES}
        for _ in range(repeats):
            out["daily_partition_s"].append(_materialize(root, env, "lms/user_activity_daily", partition=last))
            out["summary_s"].append(_materialize(root, env, "lms/user_activity_summary"))
            out["compliance_rebuild_s"].append(_materialize(root, env, compliance))
            out["assignment_load_s"].append(_materialize(root, env, ASSIGNMENT_LOADS))
            if history:
                out["history_snapshots_s"].append(_materialize(root, env, history))
                out["compliance_day_s"].append(_materialize(root, env, "lms/assignment_compliance_daily", partition=last))
    out["sensor_update_s"] = [d + s for d, s in zip(out["daily_partition_s"], out["summary_s"], strict=True)]
    return {"root": str(root), **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = bench(args.root.resolve(), args.repeats)
    for name in (*FIGURES, "sensor_update_s"):
        values = result[name]
        if not values:
            print(f"{name:<22} (not in this checkout)")
            continue
        print(f"{name:<22} median {statistics.median(values):6.2f} s   ({', '.join(f'{v:.2f}' for v in values)})")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"models-{args.root.resolve().name}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
