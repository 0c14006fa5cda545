"""Run the sandbox as a child process (demo, `make dev`, benchmarks): real HTTP, its own CPU."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from typing import Iterator

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def sandbox_process(*args: str, port: int | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Start `python -m lms_assets.sandbox` with `args`; yield its base URL; stop it on exit."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms_assets.sandbox", "--port", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited early: {proc.stderr.read().decode()[-2000:]}")
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{base_url}/_sandbox/health", timeout=2).ok:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not answer on {base_url} within {timeout:.0f} s")
            time.sleep(0.1)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
