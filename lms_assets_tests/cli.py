"""Running the project's command lines as a user would: `dagster ...` against a DAGSTER_HOME of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
