"""Drives tests/perf/loadgen.mjs (autocannon, a separate Node.js process) and summarises what it measured."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE.parent / "peers"


@dataclass(frozen=True)
class Load:
    url: str
    token: str
    bodies: list[bytes]
    connections: int = 1
    duration: float | None = None
    amount: int | None = None


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int
    # every answer's latency (ms), so that rounds of one load merge into one distribution (tail.merged)
    latencies: tuple[float, ...] = field(default=(), repr=False, compare=False)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def check_node() -> None:
    if shutil.which("node") is None or not (PEERS / "node_modules" / "autocannon").is_dir():
        raise SystemExit("the load generator needs Node.js and autocannon: `make peers`")


def run(load: Load) -> LoadResult:
    spec = {
        "url": load.url,
        "headers": {"authorization": f"Bearer {load.token}"},
        "bodies": [b.decode() for b in load.bodies],
        "connections": load.connections,
        "duration": load.duration,
        "amount": load.amount,
    }
    limit = (load.duration or 0) + (load.amount or 0) * 0.2 + 60  # generous, but never unbounded
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="fir-load-") as spec_file:
        json.dump(spec, spec_file)
        spec_file.flush()
        out = subprocess.run(
            ["node", str(HERE / "loadgen.mjs"), spec_file.name],
            cwd=PEERS,
            capture_output=True,
            timeout=limit,
            check=True,
        )
    return _summarise(json.loads(out.stdout))


def _summarise(raw: dict[str, Any]) -> LoadResult:
    latencies = [float(v) for v in raw["latencies"]]
    ok = sum(n for status, n in raw["statuses"].items() if status.startswith("2"))
    failures = raw["errors"] + raw["timeouts"] + (len(latencies) - ok)
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    return LoadResult(ok, raw["seconds"], p50, p99, failures, tuple(latencies))
