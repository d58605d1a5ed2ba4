"""Start-up time of `make run` (`fir serve --demo` on embedded PostgreSQL): first start and restart."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.perf.servers import spawn, stop, wait_ready


@dataclass(frozen=True)
class Startup:
    first: float
    warm: float


def time_to_ready(data_dir: Path) -> float:
    """Seconds from spawning `fir serve --demo` to the first 200 from /readyz; the server is stopped after."""
    started = time.perf_counter()
    server = spawn(data_dir, None, "--demo")
    try:
        wait_ready(server)
        return time.perf_counter() - started
    finally:
        stop(server)


def measure() -> Startup:
    # First: initdb, migrations and the demo load. Warm: the same data directory again (a second `make run`).
    with tempfile.TemporaryDirectory(prefix="fir-bench-startup-") as tmp:
        first = time_to_ready(Path(tmp))
        warm = time_to_ready(Path(tmp))
    return Startup(first, warm)
