"""ReleaseEvents on its own: fan-out, junk payloads, a subscriber too slow to keep up, and stop()."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from resolvers.events import ReleaseEvents


async def _collect(stream: AsyncIterator[int]) -> list[int]:
    async with asyncio.timeout(5):
        return [i async for i in stream]


async def test_fan_out_skips_junk_and_stop_ends_streams() -> None:
    events = ReleaseEvents()
    one, two = events.subscribe(), events.subscribe()
    for payload in ("1", "not-an-id", "-3", "2"):
        events.deliver(payload)
    async with asyncio.timeout(5):
        assert [await anext(one), await anext(one)] == [1, 2]
        assert [await anext(two), await anext(two)] == [1, 2]
    events.stop()
    assert await _collect(one) == [] and await _collect(two) == []
    assert events.subscribers == 0


async def test_a_slow_subscriber_is_ended_not_silently_skipped() -> None:
    events = ReleaseEvents(queue_size=2)
    slow = events.subscribe()
    for payload in ("1", "2", "3"):
        events.deliver(payload)
    assert await _collect(slow) == []  # overflowed: the stream ends so the client resubscribes
    assert events.subscribers == 0
