"""`python -m tests.perf.run [--quick]`: the benchmark suite; prints the figures, writes BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from loaders.demo import Identity
from tests.perf import (
    compiled,
    databases,
    engines,
    figures,
    fleet,
    fleet_files,
    instructions,
    layers,
    lineage,
    loadgen,
    loop_lag,
    profile,
    queueing,
    report,
    server_instructions,
    startup,
    tail,
    transparency,
    workers,
)
from tests.perf import postgraphile as peer
from tests.perf.figures import (
    CONNECTIONS,
    Results,
    crowded,
    details,
    file_details,
    file_rows,
    fleet_details,
    fleet_rows,
    notes,
    queueing_rows,
    rows,
)
from tests.perf.loadgen import Load
from tests.perf.servers import RssSampler, Server, mint_read_token, running

OUTPUT = Path("BENCHMARKS.md")
DISTINCT_DEVICES = 1000
FLEET_IDENTITIES = 2000
FLEET_FILES = (1_000_000, 10_000_000)
SEQUENTIAL_REQUESTS = 500
PROFILED_REQUESTS = 2000


@dataclass(frozen=True)
class Plan:
    duration: float
    warmup: float
    fleets: tuple[tuple[int, int], ...]  # (devices, runs)
    budget: int  # seconds for the whole run: it stops by itself

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(5, 2, ((1_000, 5), (100_000, 5)), 20 * 60)
        return cls(20, 3, ((1_000, 5), (100_000, 5), (1_000_000, 3)), 80 * 60)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def throughput(
    server: Server, token: str, path: str, bodies: list[bytes], plan: Plan, duration: float | None = None
) -> tail.Tail:
    """64 connections over the distinct identities; a short unmeasured run first warms pools and buffers.

    The server's own CPU time and its /metrics (collector, event loop) are read around the measured run.
    """
    url = server.base + path
    loadgen.run(Load(url, token, bodies, CONNECTIONS, duration=plan.warmup))
    before, cpu = tail.snapshot(server.base), tail.cpu_seconds(server.proc.pid)
    result = loadgen.run(Load(url, token, bodies, CONNECTIONS, duration=duration or plan.duration))
    return tail.between(before, tail.snapshot(server.base), result, tail.cpu_seconds(server.proc.pid) - cpu)


# The headline pair (GraphQL cache off and the baseline) takes turns on one server: A B B A, each round
# half the plan's duration, so that a machine whose speed drifts during the run moves both alike.
PAIR_ROUNDS = 2


def interleaved(
    server: Server, token: str, loads: dict[str, tuple[str, list[bytes]]], plan: Plan
) -> dict[str, tail.Tail]:
    """Each named load (path, bodies) in turns, the order reversed every other round; their rounds merged."""
    rounds: dict[str, list[tail.Tail]] = {name: [] for name in loads}
    names = list(loads)
    for r in range(PAIR_ROUNDS):
        for name in names if r % 2 == 0 else reversed(names):
            path, bodies = loads[name]
            say(f"lineage, {name}, round {r + 1} of {PAIR_ROUNDS}…")
            rounds[name].append(throughput(server, token, path, bodies, plan, plan.duration / PAIR_ROUNDS))
    return {name: tail.merged(found) for name, found in rounds.items()}


def measure_pair(server: Server, token: str, ids: list[Identity], plan: Plan, results: Results) -> None:
    """GraphQL cache off beside the one-statement baseline endpoint, taking turns on the same server."""
    pair = interleaved(
        server,
        token,
        {
            "GraphQL cache off": ("/graphql", lineage.graphql_bodies(ids)),
            "baseline": ("/baseline/device", lineage.baseline_bodies(ids)),
        },
        plan,
    )
    results.cold_tail, results.baseline_tail = pair["GraphQL cache off"], pair["baseline"]
    results.cold, results.baseline = results.cold_tail.load, results.baseline_tail.load


def check_agreement(server: Server, token: str, ids: list[Identity], results: Results) -> None:
    wrong = asyncio.run(lineage.disagreements(server.base, token, ids))
    results.agree = (len(ids) - len(wrong), len(ids))
    if wrong:
        identity, gql, plain = wrong[0]
        raise SystemExit(
            f"baseline disagrees with GraphQL on {len(wrong)} identities, e.g. {identity}:\n"
            f"graphql:  {gql}\nbaseline: {plain}"
        )


def measure_cold(
    url: str, tmp: Path, ids: list[Identity], fleet_ids: list[Identity], plan: Plan, results: Results
) -> None:
    with running(tmp / "cold", url, FIR_CACHE="0", FIR_BASELINE_ENDPOINT="1") as server:
        token = mint_read_token(server)
        say("checking that the baseline answers what GraphQL answers…")
        check_agreement(server, token, ids, results)
        measure_pair(server, token, ids, plan, results)
        measure_few(server, token, ids, plan, results, cache=False)
        measure_fleets(server, token, fleet_ids, plan, results)


def measure_collector(url: str, tmp: Path, ids: list[Identity], plan: Plan, results: Results) -> None:
    """FIR_GC_TUNING=0 and =1 side by side, cache off: the two servers take turns, two rounds each."""
    bodies = lineage.graphql_bodies(ids)
    with contextlib.ExitStack() as stack:
        servers = {
            tuned: stack.enter_context(running(tmp / f"gc-{tuned}", url, FIR_CACHE="0", FIR_GC_TUNING=tuned))
            for tuned in ("0", "1")
        }
        tokens = {tuned: mint_read_token(server) for tuned, server in servers.items()}
        for _ in range(2):
            for tuned, server in servers.items():
                say(f"collector A/B, FIR_GC_TUNING={tuned}…")
                t = throughput(server, tokens[tuned], "/graphql", bodies, plan, duration=plan.duration / 2)
                results.collector.setdefault(tuned == "1", []).append(t)
        for tuned, server in servers.items():
            say(f"profiling with py-spy, FIR_GC_TUNING={tuned}…")
            found = profile.sample(server, tokens[tuned], bodies, 4, PROFILED_REQUESTS, 25)
            results.profile += [*profile.render(f"FIR_GC_TUNING={tuned}", found), ""]


def measure_compiled(url: str, tmp: Path, ids: list[Identity], plan: Plan, results: Results) -> None:
    say("compiled executor A/B, FIR_COMPILED_EXECUTOR=1 and 0, and the baseline, taking turns…")

    def run(server: Server, token: str, path: str, bodies: list[bytes], duration: float) -> tail.Tail:
        return throughput(server, token, path, bodies, plan, duration)

    results.compiled = compiled.measure(url, tmp, ids, run, plan.duration / 2)
    results.profile += [*results.compiled.lines(), "", *results.compiled.profiles]


def compiled_only(plan: Plan, results: Results) -> None:
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        say("loading demo data at scale 1…")
        url, results.demo_load[1] = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, DISTINCT_DEVICES))
        measure_compiled(url, Path(tmp), ids, plan, results)


def measure_fleets(
    server: Server, token: str, fleet_ids: list[Identity], plan: Plan, results: Results
) -> None:
    with RssSampler(server.proc.pid) as idle:
        pass
    results.idle_rss = idle.peak
    for devices, runs in plan.fleets:
        say(f"fleetStatus, {devices:,} devices, {runs} runs…")
        with RssSampler(server.proc.pid) as rss:
            results.fleets[devices] = fleet.measure(server.base, token, fleet_ids, devices, runs)
            results.fleet_lag[devices] = loop_lag.measure(server.base, token, fleet_ids, devices)
        results.fleet_rss[devices] = rss.peak


def measure_warm(url: str, tmp: Path, ids: list[Identity], plan: Plan, results: Results) -> None:
    with running(tmp / "warm", url, FIR_CACHE="1", FIR_BASELINE_ENDPOINT="1") as server:
        token = mint_read_token(server)
        say("warming the cache with every identity once…")
        check_agreement(server, token, ids, results)
        say("lineage over GraphQL, cache on…")
        results.warm_tail = throughput(server, token, "/graphql", lineage.graphql_bodies(ids), plan)
        results.warm = results.warm_tail.load
        say("lineage by documentId (a trusted document), cache on…")
        asyncio.run(lineage.register(url))
        # registering is audited, which moves the data version and clears the cache; the unmeasured
        # warm-up fills it again, under the keys the text shares (an id is keyed on its document)
        results.warm_by_id = throughput(server, token, "/graphql", lineage.by_id_bodies(ids), plan).load
        measure_few(server, token, ids, plan, results, cache=True)


def measure_few(
    server: Server, token: str, ids: list[Identity], plan: Plan, results: Results, cache: bool
) -> None:
    """The p99 at queueing.FEW_CLIENTS clients, where queueing does not dominate it."""
    say(f"lineage at {queueing.FEW_CLIENTS} clients, cache {'on' if cache else 'off'}…")
    seconds = plan.duration / 2
    if cache:
        results.few["GraphQL cache on"] = queueing.few_clients(
            server, token, "/graphql", lineage.graphql_bodies(ids), seconds
        )
        return
    results.few["baseline endpoint"] = queueing.few_clients(
        server, token, "/baseline/device", lineage.baseline_bodies(ids), seconds
    )
    results.few["GraphQL cache off"] = queueing.few_clients(
        server, token, "/graphql", lineage.graphql_bodies(ids), seconds
    )


def measure_latency(scale: int, url: str, tmp: Path, results: Results) -> None:
    """One client, one request at a time: what a single lookup costs, free of queueing."""
    ids = asyncio.run(databases.identities(url, SEQUENTIAL_REQUESTS))
    bodies = lineage.graphql_bodies(ids)
    with running(tmp / f"latency-{scale}", url, FIR_CACHE="0") as server:
        token = mint_read_token(server)
        target = server.base + "/graphql"
        loadgen.run(Load(target, token, bodies[:100], 1, amount=100))
        say(f"lineage latency at scale {scale}, {SEQUENTIAL_REQUESTS} sequential requests…")
        results.latency[scale] = loadgen.run(Load(target, token, bodies, 1, amount=SEQUENTIAL_REQUESTS))


def measure_all(plan: Plan, results: Results) -> None:
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        urls: dict[int, str] = {}
        for scale in (1, 10):
            say(f"loading demo data at scale {scale}…")
            urls[scale], results.demo_load[scale] = asyncio.run(databases.demo_database(pg.url, scale))
        results.postgres = asyncio.run(databases.server_version(urls[1]))
        ids = asyncio.run(databases.identities(urls[1], DISTINCT_DEVICES))
        fleet_ids = asyncio.run(databases.identities(urls[1], FLEET_IDENTITIES))
        say("the CPU of one lineage request, layer by layer, in one process…")
        results.layers = layers.run(urls[1], ids)
        count_instructions(urls[1], ids, results)
        measure_cold(urls[1], Path(tmp), ids, fleet_ids, plan, results)
        measure_warm(urls[1], Path(tmp), ids, plan, results)
        measure_collector(urls[1], Path(tmp), ids, plan, results)
        say("fir serve --workers 1 vs 2, cache off, interleaved…")
        results.workers = workers.measure(urls[1], Path(tmp), ids, plan.duration / 2, plan.warmup)
        measure_compiled(urls[1], Path(tmp), ids, plan, results)
        for scale in (1, 10):
            measure_latency(scale, urls[scale], Path(tmp), results)
        measure_fleet_files(urls[1], Path(tmp), fleet_ids, results)
        measure_peer(urls[1], Path(tmp), ids, plan, results)
        measure_transparency(pg.url, results)
    say("start-up of `fir serve --demo`, fresh and warm…")
    results.startup = startup.measure()


def measure_fleet_files(url: str, tmp: Path, fleet_ids: list[Identity], results: Results) -> None:
    """Each file through the CLI on the database, then through a gateway (--url), parquet reports."""
    results.load = os.getloadavg()
    with running(tmp / "files", url, FIR_CACHE="0") as server:
        token = mint_read_token(server)
        for rows in FLEET_FILES:
            say(f"generating a fleet file of {rows:,} rows…")
            source = fleet_files.generate(tmp / f"fleet-{rows}.csv", fleet_ids, rows)
            say(f"fir fleet-check, {rows:,} rows, local database…")
            env = fleet_files.local_env(tmp / "files-cli", url)
            results.files.append(fleet_files.run_cli(source, tmp / f"report-{rows}.parquet", env))
            say(f"fir fleet-check --url, {rows:,} rows, through POST /fleet-checks…")
            remote = fleet_files.remote_env(server, token)
            out = tmp / f"report-http-{rows}.parquet"
            results.files.append(fleet_files.run_cli(source, out, remote, server=server))
            if engines.available():
                say(f"DuckDB and Polars on the same {rows:,} rows…")
                results.engines += engines.compare(source)
            source.unlink()
    results.load = tuple(max(a, b) for a, b in zip(results.load, os.getloadavg(), strict=True))  # type: ignore[assignment]


def measure_peer(url: str, tmp: Path, ids: list[Identity], plan: Plan, results: Results) -> None:
    say("PostGraphile v5 beside FIR graph, cache off…")
    peer.bench(
        url,
        tmp,
        ids,
        results.peer,
        duration=plan.duration / 2,
        warmup=plan.warmup,
        sequential=SEQUENTIAL_REQUESTS,
    )


def peer_only(plan: Plan, results: Results) -> None:
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        say("loading demo data at scale 1…")
        url, results.demo_load[1] = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, DISTINCT_DEVICES))
        measure_peer(url, Path(tmp), ids, plan, results)


def measure_transparency(server_url: str, results: Results) -> None:
    say("transparency log: publishing with and without it, proofs on a 1,000,000-leaf log…")
    results.transparency = asyncio.run(transparency.measure(server_url))


def queueing_only(plan: Plan, results: Results) -> None:
    """`--only queueing`: the three lineage endpoints at 64 and at a few clients, nothing else."""
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        url, results.demo_load[1] = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, DISTINCT_DEVICES))
        for cache in (False, True):
            with running(
                Path(tmp) / f"q{cache}", url, FIR_CACHE=str(int(cache)), FIR_BASELINE_ENDPOINT="1"
            ) as server:
                token = mint_read_token(server)
                if cache:
                    check_agreement(server, token, ids, results)  # every identity once: the cache is warm
                    results.warm = throughput(
                        server, token, "/graphql", lineage.graphql_bodies(ids), plan
                    ).load
                else:
                    measure_pair(server, token, ids, plan, results)
                measure_few(server, token, ids, plan, results, cache)


def files_only(results: Results) -> None:
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        say("loading demo data at scale 1…")
        url, results.demo_load[1] = asyncio.run(databases.demo_database(pg.url, 1))
        results.postgres = asyncio.run(databases.server_version(url))
        fleet_ids = asyncio.run(databases.identities(url, FLEET_IDENTITIES))
        measure_fleet_files(url, Path(tmp), fleet_ids, results)


def workers_only(plan: Plan, results: Results, write: bool) -> None:
    """`--only workers`: 1 vs 2 workers; its rows and detail in BENCHMARKS.md replaced (not with --quick)."""
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        say("loading demo data at scale 1…")
        url, results.demo_load[1] = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, DISTINCT_DEVICES))
        say("fir serve --workers 1 vs 2, cache off, interleaved…")
        results.workers = workers.measure(url, Path(tmp), ids, plan.duration / 2, plan.warmup)
    found_rows, found_details = workers.rows(results.workers), workers.details(results.workers)
    print(report.table(found_rows))
    print("\n".join(f"- {d}" for d in found_details))
    if write:
        OUTPUT.write_text(
            report.with_rows(
                OUTPUT.read_text() if OUTPUT.exists() else "", workers.PREFIX, found_rows, found_details
            )
        )
        say(f"updated the workers rows of {OUTPUT}")


def fleets_only(results: Results, devices: tuple[int, ...]) -> None:
    """fleetStatus alone, on a cache-off server over demo scale 1, as in the full run."""
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        say("loading demo data at scale 1…")
        url, results.demo_load[1] = asyncio.run(databases.demo_database(pg.url, 1))
        fleet_ids = asyncio.run(databases.identities(url, FLEET_IDENTITIES))
        plan = Plan.of(quick=False)
        plan = Plan(plan.duration, plan.warmup, tuple(f for f in plan.fleets if f[0] in devices), plan.budget)
        with running(Path(tmp) / "fleet", url, FIR_CACHE="0") as server:
            measure_fleets(server, mint_read_token(server), fleet_ids, plan, results)


def graphql_1m(results: Results) -> str | None:
    """fleetStatus's 1M figure from this run, else from the last full run's BENCHMARKS.md."""
    timing = results.fleets.get(1_000_000)
    if timing is not None:
        return f"{timing.median:.1f} s, peak RSS {results.fleet_rss[1_000_000] / 1e6:,.0f} MB"
    found = (
        re.search(r"fleetStatus 1,000,000: runs ([^;]*);.*peak RSS ([\d,]+ MB)", OUTPUT.read_text())
        if OUTPUT.exists()
        else None
    )
    return f"runs {found.group(1)}, peak RSS {found.group(2)} (last full run)" if found else None


def write_files_section(results: Results, document: str) -> str:
    facts = report.machine(results.postgres)
    section = report.files_section(file_rows(results), facts, file_details(results, graphql_1m(results)))
    return report.with_files_section(document, section)


def write_layers_section(results: Results, document: str) -> str:
    more = instructions.lines(results.instructions)
    more += server_instructions.lines(results.server_instructions, results.instructions)
    section = layers.section(results.layers, report.machine(results.postgres), more)
    return report.with_section(document, section, layers.BEGIN, layers.END)


def layers_only(results: Results) -> None:
    """`--only layers`: the in-process layers of a lineage request, nothing else."""
    with databases.postgres() as pg:
        url, _ = asyncio.run(databases.demo_database(pg.url, 1))
        results.postgres = asyncio.run(databases.server_version(url))
        ids = asyncio.run(databases.identities(url, DISTINCT_DEVICES))
        results.layers = layers.run(url, ids)
        count_instructions(url, ids, results)


def count_instructions(url: str, ids: list[Identity], results: Results) -> None:
    if not instructions.available():
        say("valgrind is not installed: instructions per call not counted")
        return
    say("instructions per call of each layer, under callgrind…")
    results.instructions = instructions.count(url, ids)
    say("instructions per HTTP request through fir serve, under callgrind…")
    results.server_instructions = server_instructions.count(url, ids)


def write_transparency_section(results: Results, document: str) -> str:
    section = transparency.section(results.transparency, report.machine(results.postgres))
    return report.with_section(document, section, transparency.BEGIN, transparency.END)


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """The whole run stops by itself: SIGALRM raises here, and every server is stopped on the way out."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the benchmark ran past its {seconds} s budget")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 s loads, no 1M fleet, no BENCHMARKS.md")
    parser.add_argument(
        "--only",
        choices=[
            "fleet-files",
            "postgraphile",
            "transparency",
            "workers",
            "fleet",
            "compiled",
            "queueing",
            "layers",
        ],
        help="only this part; its section (or rows) of BENCHMARKS.md is replaced (compiled: printed only)",
    )
    parser.add_argument(
        "--devices",
        default="1000,100000,1000000",
        help="with --only fleet: which fleet sizes (comma separated)",
    )
    args = parser.parse_args(argv)
    plan = Plan.of(args.quick)
    results = Results()
    if args.only == "fleet-files":
        with deadline(30 * 60):
            files_only(results)
        print(report.table(file_rows(results)))
        OUTPUT.write_text(write_files_section(results, OUTPUT.read_text() if OUTPUT.exists() else ""))
        say(f"updated the fleet-file section of {OUTPUT}")
        return
    if args.only == "transparency":
        with deadline(15 * 60), databases.postgres() as pg:
            measure_transparency(pg.url, results)
        print(report.table(transparency.rows(results.transparency)))
        document = OUTPUT.read_text() if OUTPUT.exists() else ""
        OUTPUT.write_text(write_transparency_section(results, document))
        say(f"updated the transparency section of {OUTPUT}")
        return
    if args.only == "layers":
        with deadline(20 * 60):  # the counts under callgrind take a few minutes
            layers_only(results)
        print(report.table(layers.rows(results.layers)))
        print("\n".join(instructions.lines(results.instructions)))
        print("\n".join(server_instructions.lines(results.server_instructions, results.instructions)))
        if not args.quick:
            OUTPUT.write_text(write_layers_section(results, OUTPUT.read_text() if OUTPUT.exists() else ""))
            say(f"updated the layers section of {OUTPUT}")
        return
    if args.only == "fleet":
        with deadline(30 * 60):
            fleets_only(results, tuple(int(n) for n in args.devices.split(",")))
        print(report.table(fleet_rows(results)))
        for line in fleet_details(results):
            print(f"- {line}")
        if not args.quick:
            OUTPUT.write_text(
                report.with_fleet_rows(OUTPUT.read_text(), fleet_rows(results), fleet_details(results))
            )
            say(f"updated the fleetStatus rows of {OUTPUT}")
        return
    loadgen.check_node()
    if args.only == "postgraphile":
        with deadline(15 * 60):
            peer_only(plan, results)
        peer_rows, peer_details = peer.rows(results.peer), peer.details(results.peer)
        print(report.table(peer_rows))
        print("\n".join(f"- {line}" for line in peer_details))
        if not args.quick:
            document = OUTPUT.read_text() if OUTPUT.exists() else ""
            OUTPUT.write_text(peer.with_rows(document, peer_rows, peer_details))
            say(f"updated the PostGraphile rows of {OUTPUT}")
        return
    if args.only == "workers":
        with deadline(15 * 60):
            workers_only(plan, results, write=not args.quick)
        return
    if args.only == "compiled":
        with deadline(20 * 60):
            compiled_only(plan, results)
        print(report.table(figures.compiled_rows(results)))
        print("\n".join(results.profile))
        return
    if args.only == "queueing":
        with deadline(15 * 60):
            queueing_only(plan, results)
        found, note = queueing_rows(results), queueing.note(results.few, crowded(results), CONNECTIONS)
        print(report.table(found))
        print(f"- {note}")
        if not args.quick:
            OUTPUT.write_text(queueing.with_rows(OUTPUT.read_text() if OUTPUT.exists() else "", found, note))
            say(f"updated the queueing rows and note of {OUTPUT}")
        return
    with deadline(plan.budget):
        measure_all(plan, results)
    table_rows = rows(results)
    print(
        report.table(
            table_rows
            + layers.rows(results.layers)
            + file_rows(results)
            + transparency.rows(results.transparency)
        )
    )
    for line in details(results):
        print(f"- {line}")
    print("\n".join(results.profile))
    if not args.quick:
        facts = report.machine(results.postgres)
        document = report.markdown(table_rows, facts, details(results), notes(results), results.profile)
        document = write_layers_section(results, write_files_section(results, document + "\n") + "\n")
        OUTPUT.write_text(write_transparency_section(results, document))
        say(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
