"""Embedded PostgreSQL: started on demand, stopped on exit, recovered after a crash."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gateway.database import start_embedded

CRASH = """
import os, signal, sys
from collections.abc import Iterator
from pathlib import Path
from gateway.database import start_embedded
handle = start_embedded(Path(sys.argv[1]))
print(handle.url, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no clean stop: a crash
"""


def postmaster_pid(data_dir: Path) -> int | None:
    pidfile = data_dir / "pgdata" / "postmaster.pid"
    return int(pidfile.read_text().splitlines()[0]) if pidfile.exists() else None


def wait_gone(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Not under tmp_path: pytest makes its parents 0700, which the server's own user cannot traverse."""
    with tempfile.TemporaryDirectory(prefix="fir-db-test-") as tmp:
        os.chmod(tmp, 0o755)
        yield Path(tmp)


def test_started_on_demand_and_stopped_on_close(data_dir: Path) -> None:
    handle = start_embedded(data_dir)
    pid = postmaster_pid(data_dir)
    assert pid is not None and psutil.pid_exists(pid)
    handle.close()
    assert wait_gone(pid)


def test_server_left_by_a_killed_process_is_adopted_then_stopped(data_dir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CRASH, str(data_dir)], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == -9, out.stderr
    orphan = postmaster_pid(data_dir)
    assert orphan is not None and psutil.pid_exists(orphan), "the crash should have left the server running"
    handle = start_embedded(data_dir)  # must not block, must reuse or restart
    assert postmaster_pid(data_dir) == orphan
    handle.close()
    # the dead process's handle was forgotten, so the last live user stops the server: nothing leaks
    assert wait_gone(orphan)


def test_stale_pid_file_of_an_unrelated_process_does_not_block(data_dir: Path) -> None:
    start_embedded(data_dir).close()
    pidfile = data_dir / "pgdata" / "postmaster.pid"
    # a postmaster.pid naming a live process that is not postgres (pid reuse after a crash)
    pidfile.write_text(f"{os.getpid()}\n{data_dir / 'pgdata'}\n0\n5432\n/tmp\n\n0 0\nready\n")
    handle = start_embedded(data_dir)
    try:
        pid = postmaster_pid(data_dir)
        assert pid is not None and pid != os.getpid()
        assert psutil.Process(pid).name() == "postgres"
    finally:
        handle.close()
