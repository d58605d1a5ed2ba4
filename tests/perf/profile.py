"""py-spy samples a `fir serve` process under a lineage load; `python -m tests.perf.profile` prints the top frames."""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.perf import databases, lineage, loadgen
from tests.perf.loadgen import Load, LoadResult
from tests.perf.servers import Server, mint_read_token, running

Frames = list[tuple[str, float]]


@dataclass(frozen=True)
class Profile:
    load: LoadResult
    own: Frames  # self time per function, percent of the samples
    inclusive: Frames


def _frame(raw: str) -> str:
    """`function (path/to/file.py:12)` -> `function (file.py)`."""
    name, _, where = raw.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else name


def top_frames(raw: Path, n: int) -> tuple[Frames, Frames]:
    """Self and inclusive percentages per function from py-spy's raw (collapsed stacks) output."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_frame(f) for f in stack.split(";")]
        k = int(count)
        samples += k
        own[frames[-1]] += k
        for frame in set(frames):
            total[frame] += k
    scale = 100 / samples if samples else 0.0
    return [(f, c * scale) for f, c in own.most_common(n)], [(f, c * scale) for f, c in total.most_common(n)]


def py_spy() -> str:
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def sample(
    server: Server, token: str, bodies: list[bytes], connections: int, requests: int, top: int
) -> Profile:
    """Only samples that hold the GIL count (--gil): time the process waits on its sockets is left out."""
    target = server.base + "/graphql"
    loadgen.run(Load(target, token, bodies, connections, amount=min(requests, 300)))
    with tempfile.TemporaryDirectory(prefix="fir-profile-") as tmp:
        raw = Path(tmp) / "raw.txt"
        spy = subprocess.Popen(
            [
                py_spy(),
                "record",
                "--pid",
                str(server.proc.pid),
                "--format",
                "raw",
                "--rate",
                "250",
                "--output",
                str(raw),
                "--nonblocking",
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            result = loadgen.run(Load(target, token, bodies, connections, amount=requests))
        finally:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        own, inclusive = top_frames(raw, top)
    return Profile(result, own, inclusive)


def render(label: str, p: Profile) -> list[str]:
    r = p.load
    lines = [f"{label}: {r.requests} requests, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms", "", "self %:"]
    lines += [f"  {pct:5.1f}  {f}" for f, pct in p.own]
    lines += ["", "inclusive %:"]
    return lines + [f"  {pct:5.1f}  {f}" for f, pct in p.inclusive]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--gc-tuning", default="1", help="FIR_GC_TUNING of the profiled server")
    args = parser.parse_args(argv)
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-profile-") as tmp:
        url, _ = asyncio.run(databases.demo_database(pg.url, 1))
        bodies = lineage.graphql_bodies(asyncio.run(databases.identities(url, 1000)))
        with running(Path(tmp) / "srv", url, FIR_CACHE="0", FIR_GC_TUNING=args.gc_tuning) as server:
            token = mint_read_token(server)
            found = sample(server, token, bodies, args.connections, args.requests, args.top)
    print("\n".join(render("lineage, cache off", found)))


if __name__ == "__main__":
    main()
