"""ReleaseEvents on its own: fan-out, a subscriber too slow to keep up, and stop()."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg

from resolvers.events import ReleaseEvents


async def _notify(pool: asyncpg.Pool, *payloads: str) -> None:
    async with pool.acquire() as conn:
        for payload in payloads:
            await conn.execute("select pg_notify('fir_release_published', $1)", payload)


async def _collect(stream: AsyncIterator[int]) -> list[int]:
    async with asyncio.timeout(5):
        return [i async for i in stream]


async def test_fan_out_skips_junk_and_stop_ends_streams(db_url: str, pool: asyncpg.Pool) -> None:
    events = ReleaseEvents()
    await events.start(db_url)
    one, two = events.subscribe(), events.subscribe()
    await _notify(pool, "1", "not-an-id", "2")
    async with asyncio.timeout(5):
        assert [await anext(one), await anext(one)] == [1, 2]
        assert [await anext(two), await anext(two)] == [1, 2]
    await events.stop()
    assert await _collect(one) == [] and await _collect(two) == []
    assert events.subscribers == 0


async def test_a_slow_subscriber_is_ended_not_silently_skipped(db_url: str, pool: asyncpg.Pool) -> None:
    events = ReleaseEvents(queue_size=2)
    await events.start(db_url)
    try:
        slow = events.subscribe()
        await _notify(pool, "1", "2", "3")
        assert await _collect(slow) == []  # overflowed: the stream ends so the client resubscribes
        assert events.subscribers == 0
    finally:
        await events.stop()
