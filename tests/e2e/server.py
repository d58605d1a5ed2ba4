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
    with serving(data_dir, DATABASE_URL=database_url, **env) as (_proc, base):
        yield base


@contextlib.contextmanager
def serving(data_dir: Path, *args: str, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`fir serve ARGS` (embedded PostgreSQL under data_dir unless env names DATABASE_URL), ready."""
    port = free_port()
    environ = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "FIR_HOST": "127.0.0.1",
        "FIR_PORT": str(port),
        "FIR_DATA_DIR": str(data_dir),
        "FIR_LOG_LEVEL": "WARNING",
        **env,
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "serve.log"  # a file, not a pipe: a chatty server must never block on a full pipe
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", *args],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base, log)
        yield proc, base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = log.read_text(errors="replace")
            raise RuntimeError(f"fir serve exited with {proc.returncode}: {err[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError("fir serve did not become ready")
