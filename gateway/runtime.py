"""The process's runtime: the collector tuned after start-up, and its pauses and event-loop lag measured."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import itertools
import time
from collections.abc import AsyncIterator, Iterator

from prometheus_client import Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from gateway.metrics import REGISTRY

PAUSE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)
LOOP_LAG = Histogram(
    "fir_event_loop_lag_seconds",
    "How late a 50 ms timer fires on the event loop: time some callback held the loop",
    buckets=PAUSE_BUCKETS,
    registry=REGISTRY,
)
LOOP_LAG_MAX = Gauge(
    "fir_event_loop_lag_max_seconds",
    "Longest event-loop lag since start-up",
    registry=REGISTRY,
    multiprocess_mode="max",  # with several workers: the longest of any
)
PROBE_INTERVAL = 0.05
# Young-generation threshold: CPython's default (700 allocations) runs a collection every few fields
# of a GraphQL response; the cycles a request leaves are few, so collecting less often costs little memory.
GEN0_THRESHOLD = 20_000


class PauseTimer:
    """gc.callbacks hook: times each collection by generation into plain numbers.

    It runs twice per collection, up to thousands of times a second under CPython's default
    thresholds, so it takes no lock and builds nothing: /metrics reads the numbers (GcCollector).
    """

    def __init__(self) -> None:
        self.started = 0.0
        self.started_cpu = 0.0
        self.longest = 0.0
        self.buckets = [[0] * (len(PAUSE_BUCKETS) + 1) for _ in range(3)]  # per generation, last is +Inf
        self.seconds = [0.0, 0.0, 0.0]
        self.cpu = [0.0, 0.0, 0.0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            self.started_cpu = time.thread_time()
            return
        pause = time.perf_counter() - self.started
        generation = info["generation"]
        self.cpu[generation] += time.thread_time() - self.started_cpu
        self.seconds[generation] += pause
        self.buckets[generation][bisect.bisect_left(PAUSE_BUCKETS, pause)] += 1
        if pause > self.longest:
            self.longest = pause


class GcCollector(Collector):
    """fir_gc_pause_seconds (histogram), fir_gc_cpu_seconds_total and fir_gc_pause_max_seconds."""

    def __init__(self, timer: PauseTimer) -> None:
        self.timer = timer

    def current(self) -> PauseTimer:
        return self.timer

    def collect(self) -> Iterator[HistogramMetricFamily | CounterMetricFamily | GaugeMetricFamily]:
        t = self.current()
        pauses = HistogramMetricFamily(
            "fir_gc_pause_seconds", "Garbage-collector pauses", labels=["generation"]
        )
        cpu = CounterMetricFamily(
            "fir_gc_cpu_seconds",
            "CPU time the collector took: unlike the pauses, not inflated when the process waits for a core",
            labels=["generation"],
        )
        for generation, counts in enumerate(t.buckets):
            if not any(counts):
                continue
            bounds = [*(str(b) for b in PAUSE_BUCKETS), "+Inf"]
            cumulative = list(itertools.accumulate(counts))
            pauses.add_metric(
                [str(generation)], list(zip(bounds, cumulative, strict=True)), t.seconds[generation]
            )
            cpu.add_metric([str(generation)], t.cpu[generation])
        yield pauses
        yield cpu
        yield GaugeMetricFamily(
            "fir_gc_pause_max_seconds", "Longest collector pause since start-up", value=t.longest
        )


TIMER = PauseTimer()
REGISTRY.register(GcCollector(TIMER))


def tune_collector(young_threshold: int = GEN0_THRESHOLD) -> None:
    """After start-up: what the process has built so far (schema, modules, pools) is frozen out of every
    later collection, so a full collection scans only what requests allocate; the young generation is
    collected less often. FIR_GC_TUNING=0 leaves CPython's defaults (for comparison)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(young_threshold, gen1, gen2)


async def _probe_loop() -> None:
    loop = asyncio.get_running_loop()
    longest = 0.0
    while True:
        due = loop.time() + PROBE_INTERVAL
        await asyncio.sleep(PROBE_INTERVAL)
        lag = max(0.0, loop.time() - due)
        LOOP_LAG.observe(lag)
        if lag > longest:
            longest = lag
            LOOP_LAG_MAX.set(lag)


@contextlib.asynccontextmanager
async def measured_runtime(tune: bool, young_threshold: int = GEN0_THRESHOLD) -> AsyncIterator[None]:
    """For the lifespan: tune the collector once start-up is done, time pauses and lag until shutdown."""
    if tune:
        tune_collector(young_threshold)
    # one timer per process, however many applications it runs (tests start several)
    added = TIMER not in gc.callbacks
    if added:
        gc.callbacks.append(TIMER)
    probe = asyncio.create_task(_probe_loop(), name="fir-loop-lag-probe")
    try:
        yield
    finally:
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe
        if added:
            with contextlib.suppress(ValueError):
                gc.callbacks.remove(TIMER)
