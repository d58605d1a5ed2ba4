"""The one notifier: a single LISTEN connection per process feeds the cache and the release events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from gateway.cache_store import ResponseCache
from gateway.data_version import DataVersionListener
from gateway.notifier import Notifier
from loaders.data_version import LISTENER_NAME
from loaders.release_writes import PUBLISHED_CHANNEL
from resolvers.events import ReleaseEvents


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def wired(db_url: str) -> AsyncIterator[tuple[Notifier, DataVersionListener, ReleaseEvents]]:
    notifier = Notifier(db_url, min_backoff=0.05, max_backoff=0.2)
    cache = DataVersionListener(notifier, ResponseCache(100, 1_000_000))
    events = ReleaseEvents()
    notifier.listen(PUBLISHED_CHANNEL, events.deliver)
    await notifier.start()
    try:
        yield notifier, cache, events
    finally:
        await notifier.aclose()


async def _listeners(pool: asyncpg.Pool) -> list[int]:
    """Backends of this database that listen (the notifier names its connection)."""
    rows = await pool.fetch(
        "select pid from pg_stat_activity where datname = current_database() and application_name = $1",
        LISTENER_NAME,
    )
    return [r["pid"] for r in rows]


async def test_one_connection_serves_both_channels(
    wired: tuple[Notifier, DataVersionListener, ReleaseEvents], pool: asyncpg.Pool
) -> None:
    notifier, cache, events = wired
    assert notifier.healthy and cache.healthy
    assert notifier.connection is not None
    assert await _listeners(pool) == [notifier.connection.get_server_pid()]
    stream = events.subscribe()
    before = cache.cache.version
    await pool.execute("update manufacturers set name = name")  # bumps the data version (statement trigger)
    await pool.execute(f"select pg_notify('{PUBLISHED_CHANNEL}', '42')")
    async with asyncio.timeout(5):
        assert await anext(stream) == 42
    await until(lambda: cache.cache.version > before)
    await stream.aclose()


async def test_after_a_loss_both_recover_on_one_new_connection(
    wired: tuple[Notifier, DataVersionListener, ReleaseEvents], pool: asyncpg.Pool
) -> None:
    notifier, cache, events = wired
    assert notifier.connection is not None
    old = notifier.connection.get_server_pid()
    await pool.execute("select pg_terminate_backend($1)", old)
    await until(lambda: not cache.healthy)
    await pool.execute("update manufacturers set name = name")  # committed while nobody listens
    missed = await pool.fetchval("select version from data_version")
    await until(lambda: notifier.connections == 2 and cache.healthy)
    assert cache.cache.version == missed  # re-read after LISTEN took effect
    assert notifier.connection is not None
    assert await _listeners(pool) == [notifier.connection.get_server_pid()] != [old]
    stream = events.subscribe()
    await pool.execute(f"select pg_notify('{PUBLISHED_CHANNEL}', '7')")
    async with asyncio.timeout(5):
        assert await anext(stream) == 7
    await stream.aclose()


async def test_backoff_grows_to_its_cap_while_the_database_is_unreachable() -> None:
    notifier = Notifier("postgresql://nobody@127.0.0.1:1/none", min_backoff=0.01, max_backoff=0.04)
    await notifier.start(wait=0.3)
    try:
        assert not notifier.healthy and notifier.connections == 0
        assert notifier._delay == notifier.max_backoff
    finally:
        await notifier.aclose()


async def test_a_silent_connection_is_unhealthy_within_a_probe_and_replaced(
    db_url: str, pool: asyncpg.Pool
) -> None:
    """A connection that stays open but answers nothing (here: its probe waits on a lock; in life, a
    firewall dropping an idle flow) must not pass for listening: the cache would trust it for ever.
    Within check_interval + probe_timeout it is unhealthy, and a new session takes over."""
    notifier = Notifier(db_url, check_interval=0.3, probe_timeout=0.3, min_backoff=0.05, max_backoff=0.2)
    DataVersionListener(notifier, ResponseCache(100, 1_000_000))
    await notifier.start()
    try:
        assert notifier.healthy
        first = notifier.connections
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("lock table data_version in access exclusive mode")
            loop = asyncio.get_running_loop()
            started = loop.time()
            await until(lambda: not notifier.healthy, seconds=5)
            assert loop.time() - started < 0.3 + 0.3 + 0.5
        await until(lambda: notifier.healthy and notifier.connections > first, seconds=10)
    finally:
        await notifier.aclose()
