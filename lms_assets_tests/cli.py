"""Running the project's command lines as a user would: `dagster ...` against a DAGSTER_HOME of the test's own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def make_home(home: Path, config: str = "") -> Path:
    """A DAGSTER_HOME with telemetry off (and `config` appended to its dagster.yaml)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + config)
    return home


def dagster(home: Path, *args: str, env: dict | None = None, **popen: object) -> subprocess.Popen:
    """Start `dagster *args` in the project root with DAGSTER_HOME=home; the caller waits."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.STDOUT)
    return subprocess.Popen([str(BIN / "dagster"), *args], cwd=ROOT, text=True,
                            env={**os.environ, **(env or {}), "DAGSTER_HOME": str(home)}, **popen)


def materialize_cli(home: Path, *args: str, **popen: object) -> subprocess.Popen:
    return dagster(home, "asset", "materialize", "-m", "lms_assets.definitions", *args, **popen)


def finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out or ""


@contextlib.contextmanager
def dagster_dev(home: Path, log: Path, make_target: str | None = None) -> Iterator[str]:
    """`dagster dev` (webserver, daemon, code server) with DAGSTER_HOME=home; yields the webserver's URL once
    the code location has loaded. With `make_target`, `make <target> PORT=...` starts it, as a user would."""
    import requests

    from lms_assets.sandbox.process import free_port
    from lms_assets_tests.graphql import graphql

    port = free_port()
    if make_target:
        proc = subprocess.Popen(["make", make_target, f"PORT={port}", f"PY={sys.executable}"], cwd=ROOT, text=True,
                                env={**os.environ, "DAGSTER_HOME": str(home)}, start_new_session=True,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)
    else:
        proc = dagster(home, "dev", "-h", "127.0.0.1", "-p", str(port), start_new_session=True,
                       stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if graphql(url, "{ assetNodes { id } }")["assetNodes"]:
                    break
            except (requests.ConnectionError, KeyError, AssertionError):
                pass
            assert time.monotonic() < deadline, "dagster dev did not load the code location in 180 s"
            time.sleep(1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
