"""Collector pauses across workers: each worker's snapshot file is summed into one family; bad files are skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from gateway import shared_metrics
from gateway.runtime import TIMER, PauseTimer
from gateway.shared_metrics import SharedGcCollector, merged, own_file


def other_worker(buckets: int, longest: float) -> dict[str, object]:
    timer = PauseTimer()
    timer.buckets[2][0] = buckets
    timer.seconds[2] = 0.25
    timer.cpu[2] = 0.125
    timer.longest = longest
    return {"buckets": timer.buckets, "seconds": timer.seconds, "cpu": timer.cpu, "longest": timer.longest}


def test_pauses_of_every_worker_are_summed_and_the_longest_kept(tmp_path: Path) -> None:
    (tmp_path / "gc_1.json").write_text(json.dumps(other_worker(3, 0.5)))
    (tmp_path / "gc_2.json").write_text(json.dumps(other_worker(4, 0.02)))
    (tmp_path / "gc_3.json").write_text('{"buckets": [[1]], "seconds": [], "cpu": [], "longest": 0}')
    (tmp_path / "gc_4.json").write_text("{not json")
    total = SharedGcCollector(tmp_path).current()
    assert total.buckets[2][0] == TIMER.buckets[2][0] + 7
    assert total.seconds[2] == TIMER.seconds[2] + 0.5
    assert total.cpu[2] == TIMER.cpu[2] + 0.25
    assert total.longest == max(TIMER.longest, 0.5)


def test_a_worker_reads_its_own_numbers_live_not_from_its_file(tmp_path: Path) -> None:
    own_file(tmp_path).write_text(json.dumps(other_worker(1000, 9.0)))
    assert SharedGcCollector(tmp_path).current().longest == merged([TIMER]).longest


async def test_a_worker_writes_its_numbers_at_exit(tmp_path: Path) -> None:
    async with shared_metrics.shared_metrics(tmp_path):
        pass
    written = json.loads(own_file(tmp_path).read_text())
    assert written["buckets"] == TIMER.buckets and written["longest"] == TIMER.longest


GAUGES = (
    "import sys\n"
    "from gateway.replicas import REPLICA_LAG_BYTES, REPLICA_LAG_SECONDS, REPLICA_UP\n"
    "up, lag = int(sys.argv[1]), float(sys.argv[2])\n"
    "REPLICA_UP.labels('replica0').set(up)\n"
    "REPLICA_LAG_BYTES.labels('replica0').set(lag)\n"
    "REPLICA_LAG_SECONDS.labels('replica0').set(lag)\n"
)


def workers_that_saw(metrics_dir: Path, *seen: tuple[int, float]) -> list[int]:
    """A process per (up, lag) that sets the replica gauges in `metrics_dir` and exits; their pids."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    pids = []
    for up, lag in seen:
        process = subprocess.Popen([sys.executable, "-c", GAUGES, str(up), str(lag)], env=env)
        assert process.wait(timeout=60) == 0
        pids.append(process.pid)
    return pids


def replica_gauges(metrics_dir: Path) -> dict[str, float]:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(metrics_dir))  # type: ignore[no-untyped-call]
    return {
        sample.name: sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.labels.get("replica") == "replica0"
    }


def test_a_dead_workers_replica_gauges_stop_counting(tmp_path: Path) -> None:
    """With workers, the lag is the largest and `up` the smallest any *live* worker sees."""
    pids = workers_that_saw(tmp_path, (0, 9000), (1, 10))
    assert replica_gauges(tmp_path) == {
        "fir_replica_up": 0,
        "fir_replica_lag_bytes": 9000,
        "fir_replica_lag_seconds": 9000,
    }
    mark_process_dead(pids[0], str(tmp_path))  # type: ignore[no-untyped-call]
    assert replica_gauges(tmp_path) == {
        "fir_replica_up": 1,
        "fir_replica_lag_bytes": 10,
        "fir_replica_lag_seconds": 10,
    }


def test_a_killed_workers_gauges_are_forgotten_by_the_workers_left(tmp_path: Path) -> None:
    """A worker killed (SIGKILL, the OOM killer) never marks itself dead: its `up` of 0 stayed the
    minimum for good, though the live workers and /readyz saw the replica up."""
    killed, live = workers_that_saw(tmp_path, (0, 9000), (1, 10))
    for path in tmp_path.glob(f"gauge_live*_{live}.db"):  # as if still running: this process's pid
        path.rename(path.with_name(path.name.replace(str(live), str(os.getpid()))))
    assert replica_gauges(tmp_path)["fir_replica_up"] == 0
    assert shared_metrics.forget_the_dead(tmp_path) == [killed]
    assert replica_gauges(tmp_path) == {
        "fir_replica_up": 1,
        "fir_replica_lag_bytes": 10,
        "fir_replica_lag_seconds": 10,
    }
    assert shared_metrics.forget_the_dead(tmp_path) == []  # the live one is left alone
