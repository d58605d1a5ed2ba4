"""`python -m tests.perf.loop_lag [devices ...]`: how long /healthz waits while one fleetStatus runs.

One event loop serves every request of a worker: whatever a request does on the loop without handing
it back, every other request waits for. A probe thread asks /healthz every 10 ms on a fresh connection
(tests/e2e/attacks.py's bare-socket probe) while one fleetStatus of `devices` runs; the worst and the
99th percentile of its waits are what a neighbour of the big request saw. The run is separate from
the timed ones: the probe's requests take the loop back from the request's threads (schema.sifted),
which costs the request time.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from loaders.demo import Identity
from tests.e2e.attacks import healthz
from tests.perf import databases, fleet, servers

INTERVAL = 0.01


@dataclass(frozen=True)
class LoopLag:
    devices: int
    seconds: float  # the fleet request's, end to end, with the probe running
    worst_ms: float
    p99_ms: float
    probes: int


def measure(base: str, token: str, identities: list[Identity], devices: int) -> LoopLag:
    payload = fleet.body(identities, devices)
    host, port = base.removeprefix("http://").rsplit(":", 1)
    waits: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            healthz(host, int(port))
            waits.append(time.perf_counter() - started)
            time.sleep(INTERVAL)

    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        fleet.time_once(client, payload, devices)  # warm: the document seen, the statement planned
        prober = threading.Thread(target=probe, name="healthz-probe", daemon=True)
        prober.start()
        try:
            time.sleep(0.1)
            seconds, _ = fleet.time_once(client, payload, devices)
            time.sleep(0.1)
        finally:
            stop.set()
            prober.join(timeout=30)
    waits.sort()
    return LoopLag(devices, seconds, waits[-1] * 1e3, waits[int(len(waits) * 0.99)] * 1e3, len(waits))


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or [100_000, 1_000_000]
    with databases.postgres() as pg, tempfile.TemporaryDirectory(prefix="fir-bench-") as tmp:
        url, _ = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, 2000))
        with servers.running(Path(tmp), url, FIR_CACHE="0", FIR_REQUEST_TIMEOUT="120") as server:
            token = servers.mint_read_token(server)
            for devices in counts:
                lag = measure(server.base, token, ids, devices)
                print(
                    f"fleetStatus {devices:,} devices in {lag.seconds:.2f} s: /healthz worst {lag.worst_ms:.0f} ms,"
                    f" p99 {lag.p99_ms:.0f} ms ({lag.probes} probes)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
