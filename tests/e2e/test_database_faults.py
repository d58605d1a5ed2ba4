"""A real `fir serve` whose embedded PostgreSQL is SIGKILLed under load: restarted, nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import re
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.database import Supervisor, start_embedded
from gateway.settings import load_settings
from tests.e2e.server import serving

UPSERT = "mutation($id: String!, $name: String!) { upsertManufacturer(input: {manufacturerId: $id, name: $name}) { manufacturerId } }"
READ = "query($id: String!) { manufacturer(manufacturerId: $id) { name } }"
RECOVERY_LIMIT = 15.0  # the promise is 5 s; the test allows for a loaded CI machine and reports the figure


@dataclass
class Tally:
    acknowledged: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    failures: list[float] = field(default_factory=list)  # when each failed request was answered
    last_ok_sent: float = 0.0  # when the latest acknowledged write was sent


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


def postgres_of(data_dir: Path) -> list[psutil.Process]:
    pgdata = str((data_dir / "pgdata").resolve())
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        alive = proc.info["name"] == "postgres" and proc.info["status"] != psutil.STATUS_ZOMBIE
        if alive and any(pgdata in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's 0700 base directory: the embedded server runs as its own user under root."""
    with tempfile.TemporaryDirectory(prefix="fir-faults-") as tmp:
        os.chmod(tmp, 0o755)
        yield Path(tmp)


@pytest.fixture
def embedded(data_dir: Path) -> Iterator[tuple[str, DevIssuer]]:
    with serving(data_dir, FIR_DEV_AUTH="1") as (proc, base):
        port = int(base.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(None), data_dir=data_dir, port=port, dev_auth=True)
        yield base, DevIssuer(settings)
    assert proc.returncode == 0, (
        f"fir serve did not stop by itself on SIGTERM\n{_tail(data_dir / 'serve.log')}"
    )
    left = postgres_of(data_dir)
    assert not left, f"SIGTERM must stop the embedded PostgreSQL too: {left}\n{_tail(data_dir / 'serve.log')}"


def _classify(response: httpx.Response, tally: Tally) -> bool:
    """True when the request succeeded; anything but success or a proper 503 is recorded as bad."""
    try:
        body = response.json()
    except ValueError:
        tally.bad.append(f"{response.status_code} {response.text[:200]}")
        tally.failures.append(time.monotonic())
        return False
    if response.status_code == 200 and not body.get("errors"):
        tally.outcomes["ok"] += 1
        return True
    codes = sorted({(e.get("extensions") or {}).get("code") for e in body.get("errors") or ()})
    tally.outcomes[f"{response.status_code} {','.join(map(str, codes))}"] += 1
    proper = (
        response.status_code == 503 and codes == ["SERVICE_UNAVAILABLE"] and "retry-after" in response.headers
    )
    if not proper:
        tally.bad.append(f"{response.status_code} {body}")
    tally.failures.append(time.monotonic())
    return False


async def _writer(base: str, token: str, ids: Iterator[int], tally: Tally, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(
        base_url=base, timeout=30, headers={"authorization": f"Bearer {token}"}
    ) as client:
        while not stop.is_set():
            mid = f"{next(ids):04X}"
            sent = time.monotonic()
            response = await client.post(
                "/graphql", json={"query": UPSERT, "variables": {"id": mid, "name": f"M{mid}"}}
            )
            if _classify(response, tally):
                tally.acknowledged.append(mid)
                tally.last_ok_sent = sent
            else:
                await asyncio.sleep(0.05)


async def _reader(base: str, token: str, tally: Tally, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(
        base_url=base, timeout=30, headers={"authorization": f"Bearer {token}"}
    ) as client:
        while not stop.is_set():
            mid = tally.acknowledged[-1] if tally.acknowledged else "0000"
            if not _classify(
                await client.post("/graphql", json={"query": READ, "variables": {"id": mid}}), tally
            ):
                await asyncio.sleep(0.05)


async def _under_load(
    base: str, issuer: DevIssuer, fault: Callable[[], None], logs: tuple[Path, ...] = ()
) -> tuple[Tally, Tally, float]:
    """Writers and readers run; `fault` strikes; they run on until writes succeed again, then 1 s more.

    Returns the writes, the reads, and how long clients saw failures (from the fault to the last one).
    """
    admin = issuer.mint("fir:admin", None, "fault-writer")
    reader = issuer.mint("fir:read", None, "fault-reader")
    ids = itertools.count(0x1000)
    writes, reads, stop = Tally(), Tally(), asyncio.Event()
    tasks = [asyncio.create_task(_writer(base, admin, ids, writes, stop)) for _ in range(4)]
    tasks += [asyncio.create_task(_reader(base, reader, reads, stop)) for _ in range(2)]
    await asyncio.sleep(1.5)
    before = len(writes.acknowledged)
    assert before > 0 and not writes.failures and not reads.failures
    fault()
    struck = time.monotonic()
    deadline = struck + RECOVERY_LIMIT
    # recovered: some request failed, and a write sent after the latest failure was acknowledged
    while not (writes.failures or reads.failures) or writes.last_ok_sent < max(
        writes.failures + reads.failures
    ):
        if time.monotonic() > deadline:
            stop.set()
            await asyncio.gather(*tasks)
            tails = "\n".join(f"--- {log}\n{_tail(log)}" for log in logs)
            raise AssertionError(
                f"no recovery in {RECOVERY_LIMIT} s: {writes.outcomes} {reads.outcomes} {writes.bad[:2]}\n{tails}"
            )
        await asyncio.sleep(0.01)
    await asyncio.sleep(1.0)  # keep going on the recovered server
    stop.set()
    await asyncio.gather(*tasks)
    assert len(writes.acknowledged) > before
    return writes, reads, max(writes.failures + reads.failures) - struck


def _tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(none)"
    kept = [line for line in log.read_text(errors="replace").splitlines() if "starting up" not in line]
    return "\n".join(kept[-lines:])


async def _count_stored(url: str, ids: list[str]) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "select count(*) from manufacturers where manufacturer_id = any($1::text[])", ids
            )
        )
    finally:
        await conn.close()


def _check(writes: Tally, reads: Tally, log: Path) -> None:
    assert not writes.bad and not reads.bad, (
        writes.bad[:3],
        reads.bad[:3],
        log.read_text(errors="replace")[-6000:],
    )
    assert writes.outcomes["503 SERVICE_UNAVAILABLE"] + reads.outcomes["503 SERVICE_UNAVAILABLE"] > 0


async def _ready(base: str) -> dict[str, str]:
    """/readyz once the notifier is back (it reconnects within its backoff cap of the database's return)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for _ in range(50):
            found = dict((await client.get("/readyz")).json())
            if found.get("notifier") == "listening":
                break
            await asyncio.sleep(0.1)
        return found


async def test_sigkill_of_the_postmaster_under_load_loses_no_acknowledged_write(
    embedded: tuple[str, DevIssuer], data_dir: Path
) -> None:
    base, issuer = embedded
    victim = postmaster_pid(data_dir)
    logs = (data_dir / "serve.log", data_dir / "pgdata" / "log")
    writes, reads, outage = await _under_load(base, issuer, lambda: os.kill(victim, signal.SIGKILL), logs)

    restarted = re.search(
        r"embedded PostgreSQL restarted in ([0-9.]+)s", (data_dir / "serve.log").read_text()
    )
    print(
        f"\nSIGKILL of the postmaster: clients saw 503 for {outage:.2f} s; the supervisor restarted it in"
        f" {restarted.group(1) if restarted else '?'} s; writes {dict(writes.outcomes)}; reads {dict(reads.outcomes)}"
    )
    assert outage < RECOVERY_LIMIT
    assert postmaster_pid(data_dir) != victim
    _check(writes, reads, data_dir / "serve.log")
    socket_dir = (data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[4]
    stored = await _count_stored(f"postgresql://postgres@/postgres?host={socket_dir}", writes.acknowledged)
    assert stored == len(set(writes.acknowledged)), "an acknowledged write was lost"
    assert await _ready(base) == {"status": "ok", "database": "ok", "notifier": "listening"}


async def test_a_restart_of_the_server_behind_database_url_is_survived(data_dir: Path) -> None:
    """An operator's (or orchestrator's) restart: crash, then the server comes back on the same address."""
    external = start_embedded(data_dir / "external")
    restarter = Supervisor(external.embedded)  # plays the orchestrator that restarts a crashed server
    restarter.start()
    try:
        with serving(data_dir / "gateway", FIR_DEV_AUTH="1", DATABASE_URL=external.url) as (_proc, base):
            port = int(base.rsplit(":", 1)[1])
            settings = dataclasses.replace(
                load_settings(None), data_dir=data_dir / "gateway", port=port, dev_auth=True
            )
            victim = external.embedded.get_pid()
            writes, reads, outage = await _under_load(
                base, DevIssuer(settings), lambda: os.kill(victim, signal.SIGKILL)
            )
            print(
                f"\nrestart behind DATABASE_URL: clients saw 503 for {outage:.2f} s; writes {dict(writes.outcomes)}"
            )
            assert outage < RECOVERY_LIMIT
            _check(writes, reads, data_dir / "gateway" / "serve.log")
            assert await _count_stored(external.url, writes.acknowledged) == len(set(writes.acknowledged))
            assert await _ready(base) == {"status": "ok", "database": "ok", "notifier": "listening"}
    finally:
        restarter.stop()
        external.close()
