"""Read routing without a replica server: tokens, the lag clock, choosing, failing over, mutations on the primary."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import asyncpg
import pytest

from gateway import replicas as replicas_module
from gateway.cache import covers
from gateway.database import DatabaseHandle
from gateway.replicas import (
    UP,
    LagClock,
    ReadAfter,
    ReadChoice,
    Replica,
    ReplicaSet,
    format_read_after,
    parse_read_after,
)
from gateway.settings import load_settings
from loaders.db import Db, WriteMarks, create_pool
from loaders.registry import build_loaders
from loaders.replicas import WriteMark, format_lsn, parse_lsn
from schema.schema import build_schema
from tests.builders import SECAS, context_for
from tests.conftest import fresh_database


def test_a_wal_position_reads_and_prints_as_postgresql_does() -> None:
    assert parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert format_lsn(parse_lsn("0/3000148")) == "0/3000148"
    for bad in (
        "",
        "16",
        "16/",
        "/1",
        "G/1",
        "123456789/1",
        "1/2/3",
        "-1/0",
        "0/-1",
        "+a/0",
        "0x1/0",
        "1_0/0",
    ):
        with pytest.raises(ValueError):
            parse_lsn(bad)


def test_the_read_after_token_round_trips_and_refuses_what_it_cannot_read() -> None:
    token = format_read_after(WriteMark(parse_lsn("1/A0"), 42))
    assert token == "1/A0; version=42"
    assert parse_read_after(token) == ReadAfter(parse_lsn("1/A0"), 42)
    assert parse_read_after("1/A0") == ReadAfter(parse_lsn("1/A0"), None)
    for bad in (
        "yesterday", "1/A0; v=4", "1/A0; version=", "1/A0; version=x", "1/A0;", "-1/0; version=1",
        "1/A0; version=-1", "1/A0; version=+1", "1/A0; version=1_0", "1/A0; version=\u0663",
        "1/A0; version=1234567890123456789",  # past a bigint's 18 safe digits
    ):  # fmt: skip
        with pytest.raises(ValueError):
            parse_read_after(bad)


def test_the_cache_answers_a_token_only_at_or_past_its_data_version() -> None:
    assert covers(7, None)
    assert covers(7, ReadAfter(1, 7)) and covers(8, ReadAfter(1, 7))
    assert not covers(6, ReadAfter(1, 7))  # this process has not heard of the write yet
    assert not covers(7, ReadAfter(1, None))  # a bare LSN says nothing of the data version


def test_lag_is_how_long_ago_the_primary_passed_the_replay_position() -> None:
    clock = LagClock(window=10)
    clock.add(100.0, 50)
    clock.add(101.0, 80)
    clock.add(102.0, 80)
    assert clock.lag(102.5, 80) == 0.0  # caught up: however long the primary stays idle
    assert clock.lag(102.5, 60) == pytest.approx(1.5)  # 80 was first seen at 101
    assert clock.lag(102.5, 10) == pytest.approx(2.5)
    clock.add(120.0, 90)  # older samples leave the window; the newest before it stays as a floor
    assert len(clock.samples) == 2 and clock.latest == 90


async def test_a_token_past_the_primary_is_clamped_to_where_the_primary_stands(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forged far-future token must not make a request skip the cache, wait and read the primary."""
    found = replica_set(pool)
    looks = 0
    real = replicas_module.primary_position

    async def counted(primary: asyncpg.Pool) -> WriteMark:
        nonlocal looks
        looks += 1
        return await real(primary)

    monkeypatch.setattr(replicas_module, "primary_position", counted)
    now = await real(pool)
    forged = ReadAfter(parse_lsn("FFFFFFFF/FFFFFFFF"), 999999999)
    clamped = await found.bound(forged)
    assert looks == 1  # nothing known yet: one look at the primary
    assert now.lsn <= clamped.lsn < forged.lsn and clamped.data_version == now.data_version
    assert covers(now.data_version, clamped)  # the cache answers it again
    assert await found.bound(clamped) == clamped and looks == 1  # within what is known: no look
    honest = ReadAfter(now.lsn, now.data_version)
    assert await found.bound(honest) == honest and looks == 1
    assert await found.bound(ReadAfter(forged.lsn, None)) == ReadAfter(clamped.lsn, None)
    assert looks == 2
    results = await asyncio.gather(*(found.bound(forged) for _ in range(8)))
    assert all(clamped.lsn <= r.lsn < forged.lsn and r.data_version == now.data_version for r in results)
    assert looks == 4  # the eight share two looks: the first's, and one started after the rest arrived


async def test_a_token_is_kept_as_it_is_while_the_primary_does_not_say_where_it_stands() -> None:
    gone = await create_pool("postgresql://postgres@/postgres?host=/nonexistent-fir-primary", min_size=0)
    try:
        found = replica_set(gone)
        found.clock.add(0.0, 100)  # an older look: clamping to it could hide a write made since
        found.primary_version = 3
        token = ReadAfter(500, 7)
        assert await found.bound(token) == token
        assert await found.bound(ReadAfter(50, 2)) == ReadAfter(50, 2)  # within the older look: as it is
    finally:
        await gone.close()


@pytest.fixture
async def two_pools(db_url: str) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    first = await create_pool(db_url, min_size=1, max_size=2)
    second = await create_pool(db_url, min_size=1, max_size=2)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def replica_set(primary: asyncpg.Pool, *pools: asyncpg.Pool) -> ReplicaSet:
    settings = dataclasses.replace(load_settings(env_file=None), replica_wait_ms=0)
    replicas = [Replica(f"replica{i}", p) for i, p in enumerate(pools)]
    for replica in replicas:
        replica.state, replica.replay_lsn = UP, 100
    return ReplicaSet(primary, replicas, settings)


async def test_the_least_busy_replica_that_replayed_the_token_is_chosen(
    pool: asyncpg.Pool, two_pools: tuple[asyncpg.Pool, asyncpg.Pool]
) -> None:
    first, second = two_pools
    found = replica_set(pool, first, second)
    async with first.acquire():
        assert {found.choose().name for _ in range(4)} == {"replica1"}  # type: ignore[union-attr]
    assert {found.choose().name for _ in range(4)} == {"replica0", "replica1"}  # type: ignore[union-attr]
    found.replicas[1].replay_lsn = 200
    assert found.choose(after=150) is found.replicas[1]
    assert found.choose(after=250) is None
    assert await found.wait_for(250) is None  # no wait configured: the primary
    found.replicas[1].state = "lagging"
    assert found.choose(after=150) is None


class OneReplica:
    """A ReadRouting to one pool, recording what the Db asked of it."""

    def __init__(self, pool: asyncpg.Pool, lost: asyncio.Future[None] | None = None) -> None:
        self.replica = pool
        self.asked = 0
        self.failures = 0
        self.found_down = lost

    async def pool(self) -> asyncpg.Pool:
        self.asked += 1
        return self.replica

    def failed(self, pool: asyncpg.Pool) -> None:
        self.failures += 1

    def lost(self, pool: asyncpg.Pool) -> asyncio.Future[None] | None:
        return self.found_down if pool is self.replica else None


async def test_a_read_the_replica_cannot_serve_is_answered_by_the_primary(pool: asyncpg.Pool) -> None:
    gone = await create_pool("postgresql://postgres@/postgres?host=/nonexistent-fir-replica", min_size=0)
    try:
        routing = OneReplica(gone)
        assert await Db(pool, reads=routing).fetchval("select 41 + 1") == 42
        assert routing.failures == 1
    finally:
        await gone.close()


async def test_a_read_on_a_replica_that_stops_answering_goes_to_the_primary_once_it_is_found_down(
    pool: asyncpg.Pool, pg_server: DatabaseHandle, template_db: str
) -> None:
    """A frozen replica fails no statement: the read waited out the request's deadline (a 504). Here the
    "replica" is another database whose table is locked, so the read waits as on a frozen host."""
    other = await fresh_database(pg_server.url, template_db)
    holder = await asyncpg.connect(other)
    frozen = await create_pool(other, min_size=1, max_size=2)
    try:
        await holder.execute("create table t (n int)")
        await pool.execute("create table t (n int)")
        async with holder.transaction():
            await holder.execute("lock table t")
            lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            routing = OneReplica(frozen, lost)
            asyncio.get_running_loop().call_later(0.3, lost.set_result, None)  # the checks' verdict
            read = Db(pool, reads=routing).fetchval("select 42 + count(*) from t")
            assert await asyncio.wait_for(read, 10) == 42
            assert routing.failures == 1
    finally:
        await frozen.close()
        await holder.close()


async def test_a_mutation_never_reads_a_replica_and_hands_back_its_commit(pool: asyncpg.Pool) -> None:
    schema = build_schema()
    for query, replica_reads in (
        ('mutation { upsertManufacturer(input: {manufacturerId: "106C", name: "Meters"}) { name } }', 0),
        ('{ manufacturer(manufacturerId: "106C") { name } }', 1),
    ):
        ctx = context_for(pool, SECAS)
        routing = OneReplica(pool)
        ctx.loaders = build_loaders(Db(pool, reads=routing, marks=WriteMarks()))
        result = await schema.execute(query, context_value=ctx)
        assert result.errors is None, result.errors
        assert result.data is not None and next(iter(result.data.values()))["name"] == "Meters"
        assert routing.asked == replica_reads, query
        mark = ctx.loaders.db.marks
        assert mark is not None and (mark.last is not None) == (replica_reads == 0)


async def test_a_replica_found_down_ends_the_wait_of_the_reads_on_it(
    pool: asyncpg.Pool, two_pools: tuple[asyncpg.Pool, asyncpg.Pool]
) -> None:
    first, _ = two_pools
    found = replica_set(pool, first)
    replica = found.replicas[0]
    found._settle(replica, "down")
    found._settle(replica, UP)  # found up: the reads chosen from now on watch this
    choice = ReadChoice(found, None)
    watched = choice.lost(await choice.pool())
    assert watched is not None and not watched.done()
    assert choice.lost(pool) is None  # the primary is never lost
    choice.failed(replica.pool)  # one query failed on it (a recovery conflict): the others go on
    assert replica.state == "down" and not watched.done()
    found._settle(replica, UP)
    found.mark_down(replica, "no answer within the check's bound", unanswered=True)
    assert watched.done()
    found._settle(replica, UP)  # back: a new wait, not the one already over
    assert replica.lost is not None and replica.lost is not watched and not replica.lost.done()


async def test_a_replica_busy_with_long_reads_is_not_found_down(pool: asyncpg.Pool, db_url: str) -> None:
    """The checks asked the read pool: with every connection busy they waited past their bound and
    marked a healthy replica down, and its reads in flight were run again on the primary."""
    reads = await create_pool(db_url, min_size=1, max_size=1)
    probes = await create_pool(db_url, min_size=0, max_size=2)
    try:
        replica = Replica("replica0", reads, probes)
        found = ReplicaSet(
            pool, [replica], dataclasses.replace(load_settings(env_file=None), replica_wait_ms=0)
        )
        found._settle(replica, UP)
        watched = replica.lost
        read = asyncio.ensure_future(
            Db(pool, reads=ReadChoice(found, None)).fetchval("select 7 from pg_sleep(1.5)")
        )
        await asyncio.sleep(0.2)  # the read holds the pool's only connection
        await found.check()  # bounded by a second
        assert replica.state != "down"  # (a database that is not a standby is not_standby, not down)
        assert watched is not None and not watched.done()
        assert await read == 7
    finally:
        await reads.close()
        await probes.close()
