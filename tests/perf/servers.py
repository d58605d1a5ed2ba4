"""Real `fir serve` processes for the benchmarks: started, awaited, measured (RSS) and always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.e2e.server import free_port

READY_TIMEOUT = 300.0


@dataclass(frozen=True)
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    env: dict[str, str]

    @property
    def port(self) -> str:
        return self.base.rsplit(":", 1)[1]


def server_env(data_dir: Path, port: int, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIR_") and k != "DATABASE_URL"}
    env |= {
        "FIR_HOST": "127.0.0.1",
        "FIR_PORT": str(port),
        "FIR_DATA_DIR": str(data_dir),
        "FIR_LOG_LEVEL": "WARNING",
        "FIR_DEV_AUTH": "1",
        # the 1,000,000-device fleet costs about 10 million, five times a reader's default budget
        "FIR_COST_BUDGET_READER": "12000000",
        # and past the default input caps for a token holder (100,000 list items, 32 MiB)
        "FIR_MAX_BODY_BYTES_AUTHENTICATED": str(256 * 1024 * 1024),
        "FIR_MAX_LIST_ITEMS_AUTHENTICATED": "1000000",
        **extra,
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def spawn(data_dir: Path, database_url: str | None, *args: str, **extra: str) -> Server:
    """Start `fir serve` without waiting; stderr goes to a file, where a chatty server never blocks."""
    port = free_port()
    env = server_env(data_dir, port, database_url, **extra)
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / f"serve-{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    return Server(f"http://127.0.0.1:{port}", proc, data_dir, env)


def wait_ready(server: Server, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"fir serve exited with {server.proc.returncode}: {_log_tail(server)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise TimeoutError(f"fir serve was not ready within {timeout:.0f} s: {_log_tail(server)}")


def _log_tail(server: Server) -> str:
    logs = sorted(server.data_dir.glob(f"serve-{server.port}.log"))
    return logs[0].read_text(errors="replace")[-2000:] if logs else ""


def stop(server: Server) -> None:
    """SIGTERM (graceful: the embedded PostgreSQL of `--demo` runs stop too), SIGKILL after 30 s."""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(10)


@contextlib.contextmanager
def running(data_dir: Path, database_url: str, **extra: str) -> Iterator[Server]:
    server = spawn(data_dir, database_url, **extra)
    try:
        wait_ready(server)
        yield server
    finally:
        stop(server)


def mint_read_token(server: Server) -> str:
    """A fir:read development token from `fir token`, signed with the key the server loaded."""
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "token", "--scope", "fir:read", "--subject", "bench"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


class RssSampler:
    """Peak resident memory of a process and its children, sampled every 50 ms on a thread."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self._root = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0

    def _sample(self) -> int:
        total = 0
        for proc in [self._root, *self._root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> RssSampler:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
