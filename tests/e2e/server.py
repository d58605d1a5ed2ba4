"""A real `fir serve` subprocess on a free loopback port, for tests where HTTP matters."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(database_url: str, data_dir: Path, **env: str) -> Iterator[str]:
    """Start `fir serve`, wait for /readyz, yield the base URL, stop it (SIGTERM, then SIGKILL)."""
    port = free_port()
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FIR_HOST": "127.0.0.1",
        "FIR_PORT": str(port),
        "FIR_DATA_DIR": str(data_dir),
        "FIR_LOG_LEVEL": "WARNING",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr:
            proc.stderr.close()


def _wait_ready(proc: subprocess.Popen[bytes], base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"fir serve exited with {proc.returncode}: {err[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError("fir serve did not become ready")
