"""The p99 where queueing does not dominate: lineage at a few clients, beside what 64 clients' queue alone implies."""

from __future__ import annotations

from tests.perf import loadgen
from tests.perf.loadgen import Load, LoadResult
from tests.perf.report import Row
from tests.perf.servers import Server

FEW_CLIENTS = 4
P99_TARGET_MS = 50.0


def few_clients(server: Server, token: str, path: str, bodies: list[bytes], seconds: float) -> LoadResult:
    """A short warm-up, then FEW_CLIENTS connections: each request waits for at most three others."""
    url = server.base + path
    loadgen.run(Load(url, token, bodies, FEW_CLIENTS, duration=min(2.0, seconds)))
    return loadgen.run(Load(url, token, bodies, FEW_CLIENTS, duration=seconds))


def queue_ms(load: LoadResult, clients: int) -> float:
    """Little's law: with `clients` requests always in flight, the mean time in the server is clients / rate,
    however fast each one is served. A p99 is above the mean."""
    return 1000 * clients / load.rate if load.rate else float("inf")


def rows(few: dict[str, LoadResult], crowded: dict[str, LoadResult], clients: int) -> list[Row]:
    """One row per endpoint for each: the few-client p99 (target as at 64), and the 64-client queue."""
    out = []
    for name, load in few.items():
        out.append(
            Row(
                f"lineage p99, {name}, {FEW_CLIENTS} clients",
                f"{load.p99_ms:.1f} ms (p50 {load.p50_ms:.1f} ms, {load.rate:,.0f} req/s)",
                f"< {P99_TARGET_MS:g} ms",
                load.p99_ms < P99_TARGET_MS and not load.failures,
            )
        )
    for name, load in crowded.items():
        out.append(
            Row(
                f"lineage, {name}, {clients} clients: mean latency their throughput implies ({clients} / req/s)",
                f"{queue_ms(load, clients):.1f} ms (measured p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms)",
            )
        )
    return out


def note(few: dict[str, LoadResult], crowded: dict[str, LoadResult], clients: int) -> str:
    """The reading of the 64-client p99 rows, from this run's figures (never a fixed verdict)."""
    needed = 1000 * clients / P99_TARGET_MS
    seen = "; ".join(
        f"{name} {load.rate:,.0f} req/s, a mean of {queue_ms(load, clients):.1f} ms and a p99 of"
        f" {load.p99_ms:.1f} ms ({load.p99_ms / queue_ms(load, clients):.1f}x the mean)"
        for name, load in crowded.items()
        if load.rate
    )
    return (
        f"p99 at {clients} clients is queueing: with {clients} requests always in flight the mean time in the"
        f" server is {clients} / throughput (Little's law), so a p99 under {P99_TARGET_MS:g} ms needs more than"
        f" {needed:,.0f} req/s at the mean alone, and more by as much as the p99 stands above the mean. This"
        f" run: {seen}. The gateway is one process, so with the cache off its throughput is about one over"
        " its CPU per request (the other core serves PostgreSQL and the load generator): the p99 at"
        f" {clients} clients falls as that CPU falls. At {FEW_CLIENTS} clients queueing no"
        " longer dominates: those rows show what one request's latency and the tail (collector, loop lag,"
        " scheduling) cost."
    )


def with_rows(document: str, new: list[Row], new_note: str) -> str:
    """BENCHMARKS.md with these rows and this reading note replaced in place (or added): `--only queueing`."""
    lines = document.splitlines()
    for row in new:
        line = f"| {row.figure} | {row.measured} | {row.target} | {row.verdict} |"
        found = [i for i, old in enumerate(lines) if old.startswith(f"| {row.figure} |")]
        if found:
            lines[found[0]] = line
        elif "## Figures" in lines:
            end = next(
                i for i in range(lines.index("## Figures") + 3, len(lines)) if not lines[i].startswith("|")
            )
            lines.insert(end, line)
    bullet = f"- {new_note}"
    found = [i for i, old in enumerate(lines) if old.startswith("- p99 at ") and "Little's law" in old]
    if found:
        lines[found[0]] = bullet
    elif "## Reading these figures" in lines:
        end = next(
            i
            for i in range(lines.index("## Reading these figures") + 2, len(lines))
            if not lines[i].startswith("- ")
        )
        lines.insert(end, bullet)
    return "\n".join(lines) + "\n"


def _after_lineage_rows(lines: list[str]) -> int:
    """Where a new row goes: after the table's last lineage row, else at the end of the table."""
    start = lines.index("## Figures") + 3
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    lineage = [i for i in range(start, end) if lines[i].startswith("| lineage")]
    return lineage[-1] + 1 if lineage else end
