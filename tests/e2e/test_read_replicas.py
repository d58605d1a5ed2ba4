"""`fir serve` with FIR_DATABASE_READ_URLS against a real primary and streaming replica: routing, lag, failure."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.datastructures import Secret

from gateway.auth.dev_issuer import DevIssuer
from gateway.replicas import LAGGING, UP, ReplicaSet
from gateway.settings import load_settings
from loaders.db import Db, create_pool
from loaders.replicas import primary_position
from loaders.trusted_documents import TrustedDocumentRow, register
from resolvers.trusted_documents import unregister
from tests.builders import Builder
from tests.e2e.replication import Replica, streaming_pair
from tests.e2e.server import serving

READ = "query($id: String!) { manufacturer(manufacturerId: $id) { name } }"
UPSERT = "mutation($id: String!, $name: String!) { upsertManufacturer(input: {manufacturerId: $id, name: $name}) { name } }"
WAIT_MS = 300
MAX_LAG_BYTES = 4 * 1024 * 1024
PATIENCE = 30.0  # seconds any state change may take on a loaded machine

pytestmark = pytest.mark.timeout(300)


@dataclass
class Deployment:
    base: str
    primary_url: str
    replica: Replica
    issuer: DevIssuer
    log: Path


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[str, Replica]]:
    with streaming_pair() as found:
        yield found


@pytest.fixture(scope="module")
def deployment(pair: tuple[str, Replica]) -> Iterator[Deployment]:
    primary_url, replica = pair
    with tempfile.TemporaryDirectory(prefix="fir-repl-gw-") as tmp:
        os.chmod(tmp, 0o755)
        data_dir = Path(tmp)
        env = {
            "DATABASE_URL": primary_url,
            "FIR_DATABASE_READ_URLS": replica.url(),
            "FIR_DEV_AUTH": "1",
            "FIR_REPLICA_WAIT_MS": str(WAIT_MS),
            "FIR_REPLICA_CHECK_INTERVAL": "0.1",
            "FIR_REPLICA_MAX_LAG_MS": "120000",  # a paused replica stays in service unless its WAL runs away
            "FIR_REPLICA_MAX_LAG_BYTES": str(MAX_LAG_BYTES),
        }
        with serving(data_dir, **env) as (_proc, base):
            port = int(base.rsplit(":", 1)[1])
            settings = dataclasses.replace(load_settings(None), data_dir=data_dir, port=port, dev_auth=True)
            yield Deployment(base, primary_url, replica, DevIssuer(settings), data_dir / "serve.log")
        logged = (data_dir / "serve.log").read_text(errors="replace")
        assert "Traceback" not in logged, logged[-4000:]  # a replica's failure is handled, never an error


@pytest.fixture
async def client(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
        await until_state(http, "up")
        yield http


_ids = itertools.count(0xA000)


def new_id() -> str:
    return f"{next(_ids):04X}"


async def replicas(http: httpx.AsyncClient) -> list[dict[str, object]]:
    found: list[dict[str, object]] = (await http.get("/readyz")).json()["replicas"]
    return found


async def until_state(http: httpx.AsyncClient, state: str) -> dict[str, object]:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        (replica,) = await replicas(http)
        if replica["state"] == state:
            return replica
        await asyncio.sleep(0.05)
    raise AssertionError(f"the replica never became {state}: {await replicas(http)}")


async def reads_by_target(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/metrics")).text
    return {
        t: float(v) for t, v in re.findall(r'fir_read_requests_total\{target="(\w+)"\} ([0-9.e+]+)', text)
    }


async def name_of(http: httpx.AsyncClient, mid: str, headers: dict[str, str] | None = None) -> str | None:
    response = await http.post("/graphql", json={"query": READ, "variables": {"id": mid}}, headers=headers)
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    found = body["data"]["manufacturer"]
    return None if found is None else str(found["name"])


async def on_primary(deployment: Deployment, sql: str, *args: object) -> None:
    conn = await asyncpg.connect(deployment.primary_url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def add_manufacturer(deployment: Deployment, mid: str, name: str) -> None:
    conn = await asyncpg.connect(deployment.primary_url)
    try:
        await Builder(conn).manufacturer(mid, name)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def replay_paused(replica: Replica) -> AsyncIterator[None]:
    """The replica stops applying WAL (it still receives it): it lags as far as the primary writes."""
    conn = await asyncpg.connect(replica.url())
    try:
        await conn.execute("select pg_wal_replay_pause()")
        yield
    finally:
        await conn.execute("select pg_wal_replay_resume()")
        await conn.close()


async def test_queries_are_answered_by_the_replica(deployment: Deployment, client: httpx.AsyncClient) -> None:
    """Proof by staleness: with replay paused, a row committed on the primary is invisible to a query."""
    mid = new_id()
    before = await reads_by_target(client)
    async with replay_paused(deployment.replica):
        await add_manufacturer(deployment, mid, "Only On The Primary Ltd")
        assert await name_of(client, mid) is None  # the primary has it: the replica answered
    after = await reads_by_target(client)
    assert after.get("replica0", 0) > before.get("replica0", 0)
    deadline = time.monotonic() + PATIENCE
    while await name_of(client, mid) is None:  # replay resumed: the replica catches up
        assert time.monotonic() < deadline, "the replica never replayed the row"
        await asyncio.sleep(0.05)


async def test_a_writer_reads_its_own_write_while_the_replica_lags(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    admin = {"authorization": f"Bearer {deployment.issuer.mint('fir:admin', None, 'replica-writer')}"}
    mid = new_id()
    await add_manufacturer(deployment, mid, "Old Name Ltd")
    await until_replayed(client, mid, "Old Name Ltd")
    async with replay_paused(deployment.replica):
        response = await client.post(
            "/graphql",
            json={"query": UPSERT, "variables": {"id": mid, "name": "New Name Ltd"}},
            headers=admin,
        )
        assert response.status_code == 200 and not response.json().get("errors"), response.text
        token = response.headers["fir-read-after"]
        assert re.fullmatch(r"[0-9A-F]+/[0-9A-F]+; version=\d+", token)
        # without the token: the lagging replica's answer (it is within its bounds)
        assert await name_of(client, mid) == "Old Name Ltd"
        before = await reads_by_target(client)
        # with it: the replica cannot catch up while paused, so after FIR_REPLICA_WAIT_MS the primary answers,
        # and the stale answer above was not kept by the response cache to contradict it
        started = time.monotonic()
        assert await name_of(client, mid, {"FIR-Read-After": token}) == "New Name Ltd"
        assert time.monotonic() - started >= WAIT_MS / 1000 * 0.9
        assert await name_of(client, mid, {**admin, "FIR-Read-After": token}) == "New Name Ltd"
        after = await reads_by_target(client)
        assert after.get("primary", 0) >= before.get("primary", 0) + 2
    # replay resumed: the same token is now served by the replica, which has replayed the write (another
    # caller, so that the response cache, which kept the primary's answers above, has nothing to give)
    await until_replayed(client, mid, "New Name Ltd")
    reader = {"authorization": f"Bearer {deployment.issuer.mint('fir:read', None, 'replica-reader')}"}
    before = await reads_by_target(client)
    assert await name_of(client, mid, {**reader, "FIR-Read-After": token}) == "New Name Ltd"
    after = await reads_by_target(client)
    assert after.get("replica0", 0) > before.get("replica0", 0)


async def until_replayed(http: httpx.AsyncClient, mid: str, name: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while await name_of(http, mid) != name:
        assert time.monotonic() < deadline, f"{mid} never read {name!r}"
        await asyncio.sleep(0.05)


async def test_a_malformed_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": READ, "variables": {"id": "106C"}}, headers={"FIR-Read-After": "yesterday"}
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "FIR-Read-After"}


async def test_a_document_registered_a_moment_ago_is_found_on_the_primary(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    query = "query Registered($id: String!) { manufacturer(manufacturerId: $id) { manufacturerId } }"
    document_id = hashlib.sha256(query.encode()).hexdigest()
    async with replay_paused(deployment.replica):
        primary = await create_pool(deployment.primary_url, min_size=1, max_size=1)
        try:
            await register(Db(primary), [TrustedDocumentRow(document_id, query, "Registered", "query")], None)
        finally:
            await primary.close()
        response = await client.post(
            "/graphql", json={"documentId": document_id, "variables": {"id": new_id()}}
        )
    assert response.json() == {"data": {"manufacturer": None}}


async def test_a_document_unregistered_a_moment_ago_is_refused_while_the_replica_lags(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    query = "query Unregistered($id: String!) { manufacturer(manufacturerId: $id) { manufacturerId } }"
    document_id = hashlib.sha256(query.encode()).hexdigest()
    body = {"documentId": document_id, "variables": {"id": new_id()}}
    primary = await create_pool(deployment.primary_url, min_size=1, max_size=1)
    try:
        await register(Db(primary), [TrustedDocumentRow(document_id, query, "Unregistered", "query")], None)
        assert (await client.post("/graphql", json=body)).json() == {"data": {"manufacturer": None}}
        async with replay_paused(deployment.replica):
            await unregister(Db(primary), [document_id], None, "test")
            async with asyncio.timeout(5):  # the notification travels after the commit
                while "errors" not in (answer := (await client.post("/graphql", json=body)).json()):
                    await asyncio.sleep(0.05)
    finally:
        await primary.close()
    assert answer["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_replica_past_its_lag_bound_is_skipped_and_returns(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    mid = new_id()
    async with replay_paused(deployment.replica):
        # WAL of a table FIR does not know: more than FIR_REPLICA_MAX_LAG_BYTES behind
        await on_primary(
            deployment,
            "create table if not exists ballast as select g, repeat('x', 200) as pad from generate_series(1, 1) g",
        )
        await on_primary(
            deployment, "insert into ballast select g, repeat('x', 200) from generate_series(1, 60000) g"
        )
        lagging = await until_state(client, "lagging")
        assert int(str(lagging["lag_bytes"])) > MAX_LAG_BYTES
        await add_manufacturer(deployment, mid, "Fresh Ltd")
        assert await name_of(client, mid) == "Fresh Ltd"  # the primary answered: the replica is skipped
    await until_state(client, "up")  # replayed the backlog: back in service
    before = await reads_by_target(client)
    assert await name_of(client, new_id()) is None  # a question nobody asked yet: the cache cannot answer it
    assert (await reads_by_target(client)).get("replica0", 0) > before.get("replica0", 0)


@dataclass
class Load:
    ok: int = 0
    failed: list[str] = dataclasses.field(default_factory=list)
    slowest: float = 0.0  # seconds


async def _read_until(http: httpx.AsyncClient, stop: asyncio.Event, load: Load) -> None:
    while not stop.is_set():
        started = time.monotonic()
        response = await http.post("/graphql", json={"query": READ, "variables": {"id": new_id()}})
        load.slowest = max(load.slowest, time.monotonic() - started)
        if response.status_code == 200 and not response.json().get("errors"):
            load.ok += 1
        else:
            load.failed.append(f"{response.status_code} {response.text[:300]}")


async def test_a_replica_killed_under_load_is_skipped_and_rejoins(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    """Every query succeeds (a read the dead replica fails is answered by the primary); it is marked down."""
    stop, load = asyncio.Event(), Load()
    readers = [asyncio.create_task(_read_until(client, stop, load)) for _ in range(4)]
    try:
        await asyncio.sleep(1.0)
        assert load.ok > 0
        before = await reads_by_target(client)
        await asyncio.to_thread(deployment.replica.kill)
        down = await until_state(client, "down")
        served = load.ok
        await asyncio.sleep(1.0)
        assert load.ok > served  # still serving, from the primary
        assert (await reads_by_target(client)).get("primary", 0) > before.get("primary", 0)
    finally:
        stop.set()
        await asyncio.gather(*readers)
    assert not load.failed, load.failed[:3]
    assert down["replay_lsn"] is not None  # its last known position is kept for the record
    assert "read replica replica0 is down" in deployment.log.read_text(errors="replace")  # said, once
    await asyncio.to_thread(deployment.replica.start)
    await until_state(client, "up")
    before = await reads_by_target(client)
    await name_of(client, new_id())
    assert (await reads_by_target(client)).get("replica0", 0) > before.get("replica0", 0)


# How long the replica stays frozen, and what a read in flight on it may take at most: its checks
# (every 0.1 s here, each bounded by a second) find it down, and the read goes to the primary.
FROZEN_SECONDS = 8.0
FAILED_OVER_WITHIN = 5.0


async def test_a_replica_that_stops_answering_is_skipped_and_its_reads_in_flight_fail_over(
    deployment: Deployment, client: httpx.AsyncClient
) -> None:
    """A frozen replica fails no statement: the reads in flight on it waited for it until the request's
    deadline (a 504 after 30 s) while the primary was healthy."""
    stop, load = asyncio.Event(), Load()
    readers = [asyncio.create_task(_read_until(client, stop, load)) for _ in range(4)]
    try:
        await asyncio.sleep(1.0)
        assert load.ok > 0
        with deployment.replica.frozen():
            await until_state(client, "down")
            served = load.ok
            await asyncio.sleep(FROZEN_SECONDS)
            assert load.ok > served  # still serving, from the primary
    finally:
        stop.set()
        await asyncio.gather(*readers)
    assert not load.failed, load.failed[:3]
    assert load.slowest < FAILED_OVER_WITHIN, f"a read waited {load.slowest:.1f} s for the frozen replica"
    await until_state(client, "up")  # resumed, and back in service


async def test_a_replica_late_in_time_is_skipped_and_a_token_waits_for_its_replay(
    pair: tuple[str, Replica], deployment: Deployment
) -> None:
    """The in-process ReplicaSet on the same pair, with a 300 ms time bound; it runs its checks itself."""
    primary_url, replica = pair
    settings = dataclasses.replace(
        load_settings(None),
        read_urls=(Secret(replica.url()),),
        replica_max_lag_ms=300,
        replica_check_interval=3600,
    )
    primary = await create_pool(primary_url, min_size=1, max_size=2)
    found = await ReplicaSet.open(primary, settings)
    try:
        (standby,) = found.replicas
        assert standby.state == UP
        async with replay_paused(replica):
            await add_manufacturer(deployment, new_id(), "Late Ltd")
            written = (await primary_position(primary)).lsn
            await until_checked(found, LAGGING)
            assert standby.lag_bytes < MAX_LAG_BYTES and standby.lag_seconds > 0.3  # late by time, not bytes
            found.wait = 0.2
            assert await found.wait_for(written) is None  # nothing healthy has it: the primary answers
        await until_checked(found, UP)  # replayed: back in service
        async with replay_paused(replica):
            await add_manufacturer(deployment, new_id(), "Waited For Ltd")
            written = (await primary_position(primary)).lsn
            found.wait = PATIENCE
            waiting = asyncio.create_task(found.wait_for(written))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # replay paused: the token waits
        assert await waiting is standby  # resumed: the shared poller sees the replay and wakes it
    finally:
        await found.aclose()
        await primary.close()


async def until_checked(found: ReplicaSet, state: str) -> None:
    (standby,) = found.replicas
    deadline = time.monotonic() + PATIENCE
    await found.check()
    while standby.state != state:
        assert time.monotonic() < deadline, standby.describe()
        await asyncio.sleep(0.05)
        await found.check()
