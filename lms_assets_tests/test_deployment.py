"""The production deployment as shipped, rehearsed with its process topology (issue #15).

`deploy/dagster.prod.yaml` copied unchanged into DAGSTER_HOME, filled in only by DAGSTER_PG_*;
the code location served by `dagster api grpc -m lms_assets.definitions` (the user-code image's
command); `deploy/workspace.yaml` pointed at it; `dagster-daemon run` and `dagster-webserver` as
processes of their own; runs, events and the warehouse on a real PostgreSQL server. Runs are
launched through the webserver's GraphQL API, as the UI does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import yaml
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from lms_assets.sandbox import SandboxOptions
from lms_assets.sandbox.process import free_port
from lms_assets.tenant.partition_ranges import range_tags
from lms_assets_tests.cli import BIN, ROOT
from lms_assets_tests.graphql import LAUNCH_BACKFILL, graphql, launch_run
from lms_assets_tests.helpers import expected_activities, pg, utc

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# The user-code command, exactly as deploy/Dockerfile and deploy/helm-values.yaml give it.
GRPC_MODULE = ["-m", "lms_assets.definitions"]
PROD_YAML = ROOT / "deploy" / "dagster.prod.yaml"
LOADS = {"lms_dimensions", "lms_activities"}  # the steps that read the LMS API (pool `lms_api`)


@dataclass
class Deployment:
    url: str  # the webserver
    instance: DagsterInstance
    grpc: subprocess.Popen
    warehouse: str  # PostgreSQL URL of the warehouse database
    logs: Path

    def runs(self, **filters) -> list:
        return list(self.instance.get_runs(RunsFilter(**filters)))

    def wait(self, what: str, predicate, timeout: float = 300):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in sorted(self.logs.glob("*.log")))
                raise AssertionError(f"{what}: not within {timeout:.0f} s\n{tails}")
            time.sleep(1)

    def finished(self, run_id: str) -> DagsterRunStatus | None:
        run = self.instance.get_run_by_id(run_id)
        return run.status if run and run.is_finished else None


@contextlib.contextmanager
def _processes(tmp_path: Path, env: dict) -> tuple[str, subprocess.Popen]:
    logs = tmp_path / "logs"
    logs.mkdir()
    grpc_port, web_port = free_port(), free_port()
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    server.update(host="127.0.0.1", port=grpc_port)  # the shipped file names the container's service
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    subprocess.run([str(BIN / "dagster"), "instance", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    commands = {
        "grpc": [str(BIN / "dagster"), "api", "grpc", *GRPC_MODULE, "-h", "127.0.0.1", "-p", str(grpc_port)],
        "daemon": [str(BIN / "dagster-daemon"), "run", "-w", str(tmp_path / "workspace.yaml")],
        "webserver": [str(BIN / "dagster-webserver"), "-w", str(tmp_path / "workspace.yaml"), "-h", "127.0.0.1",
                      "-p", str(web_port)],
    }
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                                           stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT)
            if name == "grpc":  # the daemon and webserver find it serving
                _wait_for_grpc(grpc_port, env, procs[name], logs)
        yield f"http://127.0.0.1:{web_port}", procs["grpc"]
    finally:
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _wait_for_grpc(port: int, env: dict, proc: subprocess.Popen, logs: Path) -> None:
    deadline = time.monotonic() + 180
    while subprocess.run([str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)], env=env,
                         capture_output=True, timeout=60).returncode != 0:
        assert proc.poll() is None, (logs / "grpc.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the code server did not answer in 180 s"
        time.sleep(1)


@pytest.fixture
def deploy(postgres_env, lms_env, tmp_path):
    """Start the topology against a sandbox; yields a function taking the sandbox."""
    admin = os.environ["LMS_TEST_POSTGRES_URL"]
    storage_db = f"lms_dagster_{uuid.uuid4().hex[:10]}"
    _admin_sql(admin, f"CREATE DATABASE {storage_db}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(PROD_YAML.read_text())  # as shipped, byte for byte
    parts = urlsplit(admin)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_PG_HOST": parts.hostname,
           "DAGSTER_PG_PORT": str(parts.port or 5432), "DAGSTER_PG_DB": storage_db,
           "DAGSTER_PG_USER": parts.username, "DAGSTER_PG_PASSWORD": parts.password or ""}
    stack = contextlib.ExitStack()

    def start(sandbox) -> Deployment:
        lms_env(sandbox)
        env["SOURCES__LMS__BASE_URL"] = sandbox.base_url
        url, grpc = stack.enter_context(_processes(tmp_path, env))
        with _env(env):
            instance = stack.enter_context(DagsterInstance.from_config(str(home)))
        deployment = Deployment(url, instance, grpc, postgres_env, tmp_path / "logs")
        deployment.wait("the webserver loading the code location", lambda: _loaded(url), timeout=180)
        return deployment

    try:
        yield start
    finally:
        stack.close()
        _admin_sql(admin, f"DROP DATABASE IF EXISTS {storage_db} WITH (FORCE)")


def _admin_sql(url: str, sql: str) -> None:
    con = psycopg2.connect(url)
    con.autocommit = True  # CREATE/DROP DATABASE refuse a transaction
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


@contextlib.contextmanager
def _env(values: dict):
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _loaded(url: str) -> bool:
    try:
        return bool(graphql(url, "{ assetNodes { id } }")["assetNodes"])
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _landed(url: str) -> dict[str, int]:
    return dict(pg(url, "SELECT id, (EXTRACT(EPOCH FROM date) * 1000)::bigint FROM lms.activities"))


def _load_intervals(d: Deployment, run_ids: list[str]) -> list[tuple[float, float]]:
    """(start, end) of every step that read the LMS API, across runs."""
    spans = []
    for run_id in run_ids:
        starts = {e.step_key: e.timestamp for e in d.instance.all_logs(run_id, of_type=DagsterEventType.STEP_START)}
        ends = {e.step_key: e.timestamp for e in d.instance.all_logs(
            run_id, of_type={DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE})}
        spans += [(starts[k], ends[k]) for k in starts if k in LOADS and k in ends]
    return spans


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def test_a_backfill_through_the_deployment_then_its_summaries_by_automation(deploy, make_sandbox):
    sb = make_sandbox(SandboxOptions(latency_ms=60), profile="realistic", activities=6_000, days=5)
    d = deploy(sb)
    limit = yaml.safe_load(PROD_YAML.read_text())["concurrency"]["pools"]["default_limit"]

    dims = launch_run(d.url, "lms_dimensions_job")
    backfill = graphql(d.url, LAUNCH_BACKFILL, {"params": {
        "partitionNames": ["2024-01-02", "2024-01-03", "2024-01-04"],
        "assetSelection": [{"path": ["lms", "activities"]}],
    }})["launchPartitionBackfill"]
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
    single = launch_run(d.url, "lms_activities_job", {"dagster/partition": "2024-01-05"})

    # the backfill daemon turns the backfill into one run (single-run policy); the queue runs them all
    backfill_runs = d.wait("the backfill's run", lambda: d.runs(tags={"dagster/backfill": backfill["backfillId"]}))
    assert len(backfill_runs) == 1
    loads = [dims, single, backfill_runs[0].run_id]
    statuses = d.wait("the LMS loads to finish", lambda: all(d.finished(r) for r in loads) and [d.finished(r) for r in loads])
    assert statuses == [DagsterRunStatus.SUCCESS] * 3

    expected = expected_activities(sb.data, utc(2024, 1, 2), utc(2024, 1, 6))
    assert _landed(d.warehouse) == expected
    assert pg(d.warehouse, "SELECT COUNT(*) FROM lms.users")[0][0] == sb.data.users

    # the automation sensor (in the daemon) brings the daily table and the user summary up to date
    daily, summary = AssetKey(["lms", "user_activity_daily"]), AssetKey(["lms", "user_activity_summary"])
    days = {"2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"}
    d.wait("the daily table for the loaded days", lambda: days <= set(
        d.instance.get_materialized_partitions(daily)), timeout=420)
    d.wait("the user summary", lambda: d.instance.get_latest_materialization_event(summary), timeout=300)
    known = sum(1 for i, ms in enumerate(sb.data.activity_ms)
                if sb.data.activity_id(i) in expected and sb.data.activity(i)["user"] is not None)
    assert pg(d.warehouse, "SELECT SUM(activity_count) FROM lms.user_activity_daily")[0][0] == known
    assert pg(d.warehouse, "SELECT COUNT(*) FROM lms.user_activity_summary")[0][0] == sb.data.users
    launched_by_sensor = [r for r in d.runs() if r.run_id not in loads and r.is_finished]
    assert launched_by_sensor and all(r.status == DagsterRunStatus.SUCCESS for r in launched_by_sensor)

    # the `lms_api` pool: the shipped limit is the pool's, and of three loads asked to run at once,
    # never more than that many read the API together
    pool = graphql(d.url, '{ instance { concurrencyLimit(concurrencyKey: "lms_api") { slotCount } } }')
    assert pool["instance"]["concurrencyLimit"]["slotCount"] == limit
    spans = _load_intervals(d, loads)
    assert len(spans) == 3
    assert _most_at_once(spans) <= limit


def test_a_run_whose_process_is_killed_is_retried_by_the_deployment(deploy, make_sandbox):
    sb = make_sandbox(SandboxOptions(latency_ms=20), profile="realistic", activities=20_000, days=5)
    d = deploy(sb)
    run_id = launch_run(d.url, "lms_activities_job", range_tags("2024-01-01", "2024-01-05"))

    def pages() -> int:
        return sb.stats.snapshot()["by_path"].get("/v1/activities 200", 0)

    d.wait("the load to be under way", lambda: pages() >= 15, timeout=300)
    workers = _run_workers(d.grpc.pid)
    assert len(workers) == 1, "\n".join(f"{k} {v}" for k, v in _descendants(d.grpc.pid).items())
    os.kill(workers[0], signal.SIGKILL)  # the run's worker process, as an evicted pod or OOM kill would

    # the code server reports the dead run failed; the daemon's run retries launch it again
    assert d.wait("the killed run to be marked failed", lambda: d.finished(run_id)) == DagsterRunStatus.FAILURE
    retry = d.wait("a retry of the killed run", lambda: d.runs(tags={"dagster/parent_run_id": run_id}))[0]
    assert d.wait("the retry to finish", lambda: d.finished(retry.run_id)) == DagsterRunStatus.SUCCESS
    assert any("Run execution process for" in (e.message or "") for e in d.instance.all_logs(run_id))

    expected = expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 6))
    assert _landed(d.warehouse) == expected
    assert pg(d.warehouse, "SELECT COUNT(*) - COUNT(DISTINCT id) FROM lms.activities")[0][0] == 0
    in_table = {r[0] for r in pg(d.warehouse, "SELECT DISTINCT _dlt_load_id FROM lms.activities")}
    completed = {r[0] for r in pg(d.warehouse, "SELECT load_id FROM lms._dlt_loads WHERE status = 0")}
    assert in_table <= completed


def _descendants(pid: int) -> dict[int, str]:
    """{pid: command line} of every process below `pid`."""
    table = {}
    for line in subprocess.run(["ps", "-ww", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout.splitlines():
        child, parent, args = line.split(None, 2) if len(line.split(None, 2)) == 3 else (*line.split(), "")
        table[int(child)] = (int(parent), args)
    found, frontier = {}, [pid]
    while frontier:
        current = frontier.pop()
        for child, (parent, args) in table.items():
            if parent == current and child not in found:
                found[child] = args
                frontier.append(child)
    return found


def _run_workers(grpc_pid: int) -> list[int]:
    """The code server's run worker processes (started by multiprocessing's spawn)."""
    return [pid for pid, args in _descendants(grpc_pid).items() if "spawn_main" in args]
