"""`python -m tests.perf.profile`: py-spy samples one uncached lineage request at a time; prints the top frames."""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.perf import databases, lineage, loadgen
from tests.perf.loadgen import Load
from tests.perf.servers import mint_read_token, running

REQUESTS = 3000


def top_frames(raw: Path, n: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Self and inclusive time per function from py-spy's raw (collapsed stacks) output, in percent."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
            if " (" in f
            else f
            for f in stack.split(";")
        ]
        k = int(count)
        samples += k
        own[frames[-1]] += k
        for frame in set(frames):
            total[frame] += k
    scale = 100 / samples if samples else 0
    return (
        [(f, c * scale) for f, c in own.most_common(n)],
        [(f, c * scale) for f, c in total.most_common(n)],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("profile.txt"))
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-profile-") as tmp:
        url, _ = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, 1000))
        bodies = lineage.graphql_bodies(ids)
        with running(Path(tmp) / "srv", url, FIR_CACHE="0") as server:
            token = mint_read_token(server)
            target = server.base + "/graphql"
            loadgen.run(Load(target, token, bodies, args.connections, amount=300))
            raw = Path(tmp) / "raw.txt"
            spy_proc = subprocess.Popen(
                [
                    spy,
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
                stderr=subprocess.PIPE,
            )
            try:
                result = loadgen.run(Load(target, token, bodies, args.connections, amount=args.requests))
            finally:
                spy_proc.send_signal(2)
                spy_proc.wait(60)
            own, total = top_frames(raw, args.top)
            lines = [
                f"{result.requests} requests, {args.connections} connection(s), p50 {result.p50_ms:.2f} ms, "
                f"p99 {result.p99_ms:.2f} ms, {result.rate:.0f} req/s",
                "",
                "self %:",
            ]
            lines += [f"  {p:5.1f}  {f}" for f, p in own]
            lines += ["", "inclusive %:"]
            lines += [f"  {p:5.1f}  {f}" for f, p in total]
            shutil.copy(raw, args.out.with_suffix(".raw"))
            args.out.write_text("\n".join(lines) + "\n")
            print("\n".join(lines))


if __name__ == "__main__":
    main()
