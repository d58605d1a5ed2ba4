"""1 worker against 2 (`fir serve --workers N`), lineage cache off, 64 clients, interleaved rounds."""

from __future__ import annotations

import contextlib
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from loaders.demo import Identity
from tests.perf import lineage, loadgen
from tests.perf.loadgen import Load, LoadResult
from tests.perf.report import Row
from tests.perf.servers import Server, mint_read_token, running

COUNTS = (1, 2)
ROUNDS = 2
CONNECTIONS = 64
PREFIX = "workers "  # every row and detail of this part starts so: `--only workers` replaces them


@dataclass
class Run:
    load: LoadResult
    cpu_seconds: float  # the parent's and every worker's user + system time

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.load.requests if self.load.requests else float("nan")


@dataclass
class Workers:
    runs: dict[int, list[Run]] = field(default_factory=dict)  # worker count: its rounds
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the machine's load averages after the runs

    def rate(self, count: int) -> float:
        return statistics.median(r.load.rate for r in self.runs[count])

    def cpu_ms(self, count: int) -> float:
        return statistics.median(r.cpu_ms_per_request for r in self.runs[count])

    def p99(self, count: int) -> float:
        return max(r.load.p99_ms for r in self.runs[count])


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def wait_for_workers(server: Server, count: int, tries: int = 400) -> None:
    """`fir serve` is ready with its first worker; the benchmark waits for all of them."""
    if count == 1:
        return
    seen: set[str] = set()
    for _ in range(tries):
        response = httpx.get(f"{server.base}/readyz", headers={"connection": "close"}, timeout=5)
        if response.status_code == 200:
            seen.add(response.headers["x-fir-worker"])
        if len(seen) == count:
            return
    raise RuntimeError(f"only {len(seen)} of {count} workers answered")


def one_run(server: Server, token: str, bodies: list[bytes], duration: float, warmup: float) -> Run:
    url = server.base + "/graphql"
    loadgen.run(Load(url, token, bodies, CONNECTIONS, duration=warmup))
    before = tree_cpu_seconds(server.proc.pid)
    load = loadgen.run(Load(url, token, bodies, CONNECTIONS, duration=duration))
    return Run(load, tree_cpu_seconds(server.proc.pid) - before)


def measure(url: str, tmp: Path, ids: list[Identity], duration: float, warmup: float) -> Workers:
    """Both servers up at once on one database, taking turns: the machine's noise hits both alike."""
    bodies = lineage.graphql_bodies(ids)
    found = Workers()
    with contextlib.ExitStack() as stack:
        servers = {
            n: stack.enter_context(running(tmp / f"workers-{n}", url, FIR_CACHE="0", FIR_WORKERS=str(n)))
            for n in COUNTS
        }
        tokens = {n: mint_read_token(server) for n, server in servers.items()}
        for n, server in servers.items():
            wait_for_workers(server, n)
        for _ in range(ROUNDS):
            for n, server in servers.items():
                found.runs.setdefault(n, []).append(one_run(server, tokens[n], bodies, duration, warmup))
    found.load = os.getloadavg()
    return found


def rows(found: Workers | None) -> list[Row]:
    if found is None or not found.runs:
        return []
    one = found.rate(1)
    out = []
    for n in COUNTS:
        ratio = f" = {found.rate(n) / one:.2f}x 1 worker" if n != 1 else ""
        out.append(
            Row(
                f"{PREFIX}{n}, lineage GraphQL cache off, 64 clients, interleaved",
                f"{found.rate(n):,.0f} req/s{ratio}; server CPU {found.cpu_ms(n):.2f} ms per request;"
                f" worst p99 {found.p99(n):.0f} ms",
            )
        )
    return out


def details(found: Workers | None) -> list[str]:
    if found is None or not found.runs:
        return []
    runs = "; ".join(
        f"{n}: " + ", ".join(f"{r.load.rate:,.0f} req/s ({r.load.failures} failed)" for r in found.runs[n])
        for n in COUNTS
    )
    return [
        f"{PREFIX}1 vs 2, rounds {runs}; load average {', '.join(f'{x:.1f}' for x in found.load)}."
        f" The gateway's CPU is the parent's and every worker's. On {os.cpu_count()} cores shared with"
        " PostgreSQL and the load generator a second worker finds little idle CPU: expect little or no"
        " gain here, and more CPU per request as the processes contend for the same cores."
    ]
