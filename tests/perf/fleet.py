"""The fleetStatus workload: one request carrying a whole fleet, timed over HTTP end to end."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import httpx
import orjson

from loaders.demo import Identity
from tests.perf.lineage import variables

QUERY = (
    "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total distinct upToDate outdated notOnCpl"
    " noUpgradePath invalid groups { count refs status { onCpl isLatest latest { version }"
    " upgradePath { version } } } } }"
)


@dataclass(frozen=True)
class FleetTiming:
    devices: int
    runs: list[float]
    request_mb: float
    response_mb: float

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def body(identities: list[Identity], devices: int) -> bytes:
    """`devices` meters cycling over the distinct identities, each with its own reference (an MPAN)."""
    fleet = [{"ref": f"MPAN-{n:09d}", **variables(identities[n % len(identities)])} for n in range(devices)]
    return orjson.dumps({"query": QUERY, "variables": {"d": fleet}})


def time_once(client: httpx.Client, payload: bytes, devices: int) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.post("/graphql", content=payload)
    answer = orjson.loads(response.content)  # part of end to end: a client has to read the answer
    elapsed = time.perf_counter() - started
    if "errors" in answer or answer["data"]["fleetStatus"]["total"] != devices:
        raise RuntimeError(f"fleetStatus failed for {devices} devices: {response.text[:500]}")
    return elapsed, len(response.content)


def measure(base: str, token: str, identities: list[Identity], devices: int, runs: int) -> FleetTiming:
    payload = body(identities, devices)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    timings: list[float] = []
    size = 0
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        for _ in range(runs):
            elapsed, size = time_once(client, payload, devices)
            timings.append(elapsed)
    return FleetTiming(devices, timings, len(payload) / 1e6, size / 1e6)
