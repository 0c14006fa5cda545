"""The code location's shape, snapshotted: a rename is a visible diff, not a silent break (issue #3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lms_assets.warehouse import SUPPORTED

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def describe(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for k in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(k)
        pd = node.partitions_def
        assets[k.to_user_string()] = {
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds - set(SUPPORTED)),  # the destination's kind follows LMS_DESTINATION
            "owners": list(node.owners),
            "partitions": None if pd is None else f"{type(pd).__name__}({pd.get_first_partition_key()}, {getattr(pd, 'timezone', '')})",
            "backfill_policy": str(node.backfill_policy.policy_type.value) if node.backfill_policy else None,
            "automation": node.automation_condition.get_label() or node.automation_condition.name
            if node.automation_condition else None,
            "has_description": bool(node.description),
        }
    return {
        "assets": assets,
        "checks": sorted(c.to_user_string() for c in graph.asset_check_keys),
        "schedules": {s.name: [s.cron_schedule, s.job_name, s.execution_timezone]
                      for s in sorted(defs.schedules, key=lambda s: s.name)},
        "sensors": sorted(s.name for s in defs.sensors),
        "jobs": sorted(j.name for j in defs.jobs),
    }


def test_definitions_match_the_snapshot():
    from lms_assets.definitions import defs

    current = describe(defs)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), "definitions changed: review, then UPDATE_SNAPSHOTS=1"


@pytest.mark.slow
def test_definitions_load_without_secrets_or_network(tmp_path):
    """Load the code location in a clean process with no credentials and no reachable API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(SOURCES__LMS__BASE_URL="http://127.0.0.1:9", LMS_PIPELINES_DIR=str(tmp_path / "dlt"))
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError('network call while loading definitions')\n"
        "socket.socket.connect = refuse\n"
        "from lms_assets.definitions import defs\n"
        "defs.resolve_asset_graph()\n"
        "print('loaded')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "loaded" in out.stdout


def test_a_killed_process_working_dir_is_removed_by_the_next_load(tmp_path):
    """The describing pipelines' temp dir of a process killed before its atexit is swept by the next load."""
    import signal
    import time

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    show = ("import lms_assets.definitions\n"
            "from lms_assets.tenant.ingestion.assets import _DEFINITIONS_DIR; print(_DEFINITIONS_DIR, flush=True)\n")
    killed = subprocess.Popen([sys.executable, "-W", "ignore", "-c", show + "import time; time.sleep(120)"], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        first = Path(killed.stdout.readline().strip())
        assert first.parent == tmp_path and any(first.iterdir())
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
    time.sleep(0.1)
    assert first.exists()  # no atexit after SIGKILL
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", show], env=env, capture_output=True, text=True,
                         check=True)
    second = Path(out.stdout.strip())
    assert not first.exists() and not second.exists()  # swept; and its own removed at a normal exit
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("chosen, expected", [(None, "system"), ("mimalloc", "mimalloc")])
def test_arrow_buffers_come_from_the_system_allocator_unless_the_operator_chose(chosen, expected):
    # pyarrow's mimalloc pool kept a backfill's freed batches under DuckDB's merge (issue #12's memory)
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    code = "import lms_assets.definitions, pyarrow as pa; pa.array([1]); print(pa.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected
