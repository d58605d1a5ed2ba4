"""Prometheus multiprocess mode for several workers: any worker's /metrics sums what every worker counted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from gateway.metrics import REGISTRY
from gateway.runtime import TIMER, GcCollector, PauseTimer

# Collector pauses are counted in plain numbers (gateway.runtime.PauseTimer), not in prometheus_client's
# shared files: each worker writes its numbers beside them this often, and at exit.
SHARE_INTERVAL = 1.0


def registry_for(metrics_dir: Path | None) -> CollectorRegistry:
    """This process's REGISTRY, or (multiprocess mode) one reading every worker's files."""
    if metrics_dir is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))  # type: ignore[no-untyped-call]
    registry.register(SharedGcCollector(metrics_dir))
    return registry


class SharedGcCollector(GcCollector):
    """The collector's pauses summed over workers: this one's live numbers, the others' last written."""

    def __init__(self, metrics_dir: Path) -> None:
        super().__init__(TIMER)
        self.metrics_dir = metrics_dir

    def current(self) -> PauseTimer:
        timers = [TIMER]
        for path in self.metrics_dir.glob("gc_*.json"):
            if path != own_file(self.metrics_dir):
                with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                    timers.append(_timer_of(json.loads(path.read_text(encoding="utf-8"))))
        return merged(timers)


def merged(timers: list[PauseTimer]) -> PauseTimer:
    total = PauseTimer()
    for t in timers:
        for generation in range(3):
            total.buckets[generation] = [
                a + b for a, b in zip(total.buckets[generation], t.buckets[generation], strict=True)
            ]
            total.seconds[generation] += t.seconds[generation]
            total.cpu[generation] += t.cpu[generation]
        total.longest = max(total.longest, t.longest)
    return total


def _snapshot(t: PauseTimer) -> dict[str, object]:
    return {"buckets": t.buckets, "seconds": t.seconds, "cpu": t.cpu, "longest": t.longest}


def _timer_of(data: Any) -> PauseTimer:
    """A snapshot read back; whatever is malformed raises ValueError, KeyError or TypeError."""
    timer = PauseTimer()
    buckets = [[int(n) for n in counts] for counts in data["buckets"]]
    if [len(b) for b in buckets] != [len(b) for b in timer.buckets]:
        raise ValueError("not a pause snapshot of these buckets")
    timer.buckets = buckets
    timer.seconds = [float(s) for s in data["seconds"]]
    timer.cpu = [float(s) for s in data["cpu"]]
    if len(timer.seconds) != 3 or len(timer.cpu) != 3:
        raise ValueError("not a pause snapshot of three generations")
    timer.longest = float(data["longest"])
    return timer


def own_file(metrics_dir: Path) -> Path:
    return metrics_dir / f"gc_{os.getpid()}.json"


def _write_own(metrics_dir: Path) -> None:
    target = own_file(metrics_dir)
    partial = target.with_suffix(".partial")  # renamed into place: a reader never sees half a file
    partial.write_text(json.dumps(_snapshot(TIMER)), encoding="utf-8")
    partial.replace(target)


async def _share_periodically(metrics_dir: Path) -> None:
    while True:
        await asyncio.sleep(SHARE_INTERVAL)
        _write_own(metrics_dir)
        forget_the_dead(metrics_dir)


_LIVE_GAUGE = re.compile(r"gauge_live(?:sum|all|min|max|mostrecent)_(\d+)\.db")


def forget_the_dead(metrics_dir: Path) -> list[int]:
    """Mark dead every process whose live gauges are still there, and say which. A worker killed
    (SIGKILL, the OOM killer) never reaches its own mark_process_dead: its last `fir_replica_up` of 0
    stayed the workers' minimum for the life of the server, though every live worker saw the replica up."""
    dead: list[int] = []
    for path in metrics_dir.glob("gauge_live*_*.db"):
        found = _LIVE_GAUGE.fullmatch(path.name)
        if found is not None and not _alive(int(found.group(1))):
            dead.append(int(found.group(1)))
    for pid in sorted(set(dead)):
        with contextlib.suppress(OSError):
            mark_process_dead(pid, str(metrics_dir))  # type: ignore[no-untyped-call]
    return sorted(set(dead))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


@contextlib.asynccontextmanager
async def shared_metrics(metrics_dir: Path | None) -> AsyncIterator[None]:
    """For a worker's lifespan: share its collector pauses; at exit, mark it dead (live gauges drop it)."""
    if metrics_dir is None:
        yield
        return
    forget_the_dead(metrics_dir)  # a worker started in the place of one that was killed
    task = asyncio.create_task(_share_periodically(metrics_dir), name="fir-shared-metrics")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(OSError):
            _write_own(metrics_dir)
        mark_process_dead(os.getpid(), str(metrics_dir))  # type: ignore[no-untyped-call]
