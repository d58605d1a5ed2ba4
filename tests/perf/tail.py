"""The 64-client tail: collector pauses and event-loop lag read from /metrics, collector tuning on and off."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import psutil

from tests.perf.loadgen import LoadResult, percentile

_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


@dataclass(frozen=True)
class Runtime:
    """Counters of one server's /metrics at one moment."""

    gc_count: dict[str, float]
    gc_seconds: dict[str, float]
    gc_cpu: dict[str, float]
    gc_max: float
    lag_buckets: dict[float, float]
    lag_count: float
    lag_max: float


@dataclass(frozen=True)
class Tail:
    """What one load saw: its latencies, and the collector and loop between the two snapshots."""

    load: LoadResult
    cpu_seconds: float  # the server process's user + system time during the load
    collections: int
    full_collections: int
    gc_seconds: float
    gc_cpu_seconds: float
    gc_max_ms: float
    lag_p99_ms: float
    lag_max_ms: float

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.load.requests if self.load.requests else float("nan")

    @property
    def gc_cpu_ms_per_request(self) -> float:
        return 1000 * self.gc_cpu_seconds / self.load.requests if self.load.requests else float("nan")


def snapshot(base: str) -> Runtime:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    count: dict[str, float] = {}
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    buckets: dict[float, float] = {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m is None:
            continue
        name, labels, value = m["name"], m["labels"] or "", float(m["value"])
        gen = re.search(r'generation="(\d)"', labels)
        if name == "fir_gc_pause_seconds_count" and gen:
            count[gen[1]] = value
        elif name == "fir_gc_pause_seconds_sum" and gen:
            seconds[gen[1]] = value
        elif name == "fir_gc_cpu_seconds_total" and gen:
            cpu[gen[1]] = value
        elif name == "fir_event_loop_lag_seconds_bucket":
            le = re.search(r'le="([^"]+)"', labels)
            if le:
                buckets[float(le[1])] = value
        else:
            values[name] = value
    return Runtime(
        count,
        seconds,
        cpu,
        values.get("fir_gc_pause_max_seconds", 0.0),
        buckets,
        values.get("fir_event_loop_lag_seconds_count", 0.0),
        values.get("fir_event_loop_lag_max_seconds", 0.0),
    )


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def between(before: Runtime, after: Runtime, load: LoadResult, cpu: float) -> Tail:
    def delta(d1: dict[str, float], d0: dict[str, float]) -> dict[str, float]:
        return {k: v - d0.get(k, 0.0) for k, v in d1.items()}

    count, seconds = delta(after.gc_count, before.gc_count), delta(after.gc_seconds, before.gc_seconds)
    probes = after.lag_count - before.lag_count
    buckets = {le: n - before.lag_buckets.get(le, 0.0) for le, n in sorted(after.lag_buckets.items())}
    # the upper bound of the bucket holding the 99th percentile probe (a histogram bounds, not interpolates)
    p99 = next((le for le, n in buckets.items() if probes and n >= 0.99 * probes), float("inf"))
    return Tail(
        load,
        cpu,
        int(sum(count.values())),
        int(count.get("2", 0.0)),
        sum(seconds.values()),
        sum(delta(after.gc_cpu, before.gc_cpu).values()),
        after.gc_max * 1000,
        p99 * 1000,
        after.lag_max * 1000,
    )


def merged(rounds: list[Tail]) -> Tail:
    """Rounds of one load taken in turns with another, as one: answers, seconds, CPU and collections
    summed; p50 and p99 of all the rounds' latencies together (the worst round's when a round kept
    none); collector pauses and loop lag the worst round's."""
    loads = [t.load for t in rounds]
    pooled = [ms for r in loads for ms in r.latencies] if all(r.latencies for r in loads) else []
    p50 = percentile(pooled, 0.5) if pooled else max(r.p50_ms for r in loads)
    p99 = percentile(pooled, 0.99) if pooled else max(r.p99_ms for r in loads)
    requests, seconds = sum(r.requests for r in loads), sum(r.seconds for r in loads)
    load = LoadResult(requests, seconds, p50, p99, sum(r.failures for r in loads), tuple(pooled))
    return Tail(
        load,
        sum(t.cpu_seconds for t in rounds),
        sum(t.collections for t in rounds),
        sum(t.full_collections for t in rounds),
        sum(t.gc_seconds for t in rounds),
        sum(t.gc_cpu_seconds for t in rounds),
        max(t.gc_max_ms for t in rounds),
        max(t.lag_p99_ms for t in rounds),
        max(t.lag_max_ms for t in rounds),
    )
