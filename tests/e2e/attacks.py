"""The hostile requests of issue 9, and a /healthz probe that measures the loop while they run."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

# A fixed piece of pure-Python work, and what it took on the rounds of these machines the bound was
# set on (2 cores shared with PostgreSQL; the benchmark's baseline at 2,500-3,600 req/s).
_CALIBRATION_LOOP = 2_000_000
_CALIBRATION_SECONDS = 0.16


def machine_slowness() -> float:
    """How much slower this machine runs Python right now than the rounds the bound was set on (at
    least 1): shared machines have rounds several times slower, where a wall-clock bound measures the
    neighbours. The best of three, so a single preemption does not count."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(_CALIBRATION_LOOP):
            total += i
        best = min(best, time.process_time() - started)
    return max(1.0, best / _CALIBRATION_SECONDS)


# The bound: the loop answers a liveness probe this fast whatever else it is doing.
HEALTHZ_BOUND = 0.250


def healthz_bound() -> float:
    """HEALTHZ_BOUND, scaled when the machine runs slower than the rounds it was set on, measured when
    asked (just after an attack): a loop held for seconds still fails."""
    return HEALTHZ_BOUND * machine_slowness()


@dataclass
class HealthProbe:
    """What the probe saw: every /healthz latency, and the failures."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)


def healthz(host: str, port: int) -> int:
    """One GET /healthz on a fresh connection, with a bare socket: httpx's per-client set-up costs
    more CPU than the request, and on a busy machine the probe would mostly measure itself."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def poll(base: str, stop: threading.Event, interval: float = 0.02) -> HealthProbe:
    """/healthz until `stop`, a fresh connection each time (a new client is what must get in)."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    probe = HealthProbe()
    while not stop.is_set() or len(probe.latencies) < 3:
        started = time.perf_counter()
        try:
            status = healthz(host, int(port))
            if status != 200:
                probe.failures.append(f"status {status}")
        except (OSError, ValueError, IndexError) as error:
            probe.failures.append(repr(error))
        probe.latencies.append(time.perf_counter() - started)
        stop.wait(interval)
    return probe


@contextlib.contextmanager
def probing(base: str) -> Iterator[HealthProbe]:
    """/healthz polled from a separate process for as long as the block runs.

    A separate process, because the attacking client shares this one: pushing 200 MB through
    httpx holds the test process's GIL, and a probe thread here would measure that, not the server.
    """
    probe = HealthProbe()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.attacks", base],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == b"polling"
        yield probe
    finally:
        child.stdin.close()  # the signal to stop
        with child.stdout:
            out = child.stdout.read()
        child.wait(60)
        seen = orjson.loads(out)
        probe.latencies += seen["latencies"]
        probe.failures += seen["failures"]


def _probe_main(base: str) -> None:
    stop = threading.Event()

    def until_stdin_closes() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    host, port = base.removeprefix("http://").rsplit(":", 1)
    healthz(host, int(port))  # warm: the first connection out of the way
    sys.stdout.write("polling\n")
    sys.stdout.flush()
    probe = poll(base, stop)
    sys.stdout.write(orjson.dumps({"latencies": probe.latencies, "failures": probe.failures}).decode())


def doubling_fragments(levels: int = 23) -> str:
    """Each fragment spreads the next twice: 2**levels paths from about 950 bytes."""
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query {{ __typename }}")
    return " ".join(parts)


def aliased_introspection(aliases: int = 8) -> str:
    """Aliases multiply under __schema: each alias of `types` walks fields -> type -> fields again."""
    field = "name description args { name description type { name kind } } type { name kind ofType { name kind } }"
    walk = f"name kind description fields {{ {field} type {{ ofType {{ name fields {{ {field} }} }} }} }}"
    types = " ".join(f"t{i}: types {{ {walk} }}" for i in range(aliases))
    return "{ " + " ".join(f"s{i}: __schema {{ {types} }}" for i in range(aliases)) + " }"


def unpaginated_chain() -> str:
    """deviceModels -> cplEntries -> model -> manufacturer -> deviceModels ...: twelve levels, never paginated."""
    inner = "deviceModels { modelId name }"
    for _ in range(2):
        inner = f"deviceModels {{ cplEntries {{ number model {{ manufacturer {{ {inner} }} }} }} }}"
    return f"{{ deviceModels(first: 100) {{ edges {{ node {{ {inner.removeprefix('deviceModels { ')} }} }} }}"


def entities_body(count: int = 100_000, spread: bool = False) -> bytes:
    """`spread`: the `_entities` field sits in a named fragment spread at the root, as a cap dodge."""
    reps = [{"__typename": "CplEntry", "number": i + 1} for i in range(count)]
    field = "_entities(representations: $r) { ... on CplEntry { number status } }"
    query = (
        f"query($r: [_Any!]!) {{ ...E }} fragment E on Query {{ {field} }}"
        if spread
        else f"query($r: [_Any!]!) {{ {field} }}"
    )
    return orjson.dumps({"query": query, "variables": {"r": reps}})


def fleet_body(count: int = 1_000_001) -> bytes:
    device = (
        b'{"manufacturerId":"106C","modelId":"4331","hardwareVersion":"00AC","firmwareVersion":"124074DA"}'
    )
    devices = b"[" + b",".join([device] * count) + b"]"
    query = b'"query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total upToDate } }"'
    return b'{"query":' + query + b',"variables":{"d":' + devices + b"}}"


def huge_body(megabytes: int = 200) -> bytes:
    return b'{"query":"{ __typename }","variables":{"pad":"' + b"a" * (megabytes * 1024 * 1024) + b'"}}'


if __name__ == "__main__":
    _probe_main(sys.argv[1])
