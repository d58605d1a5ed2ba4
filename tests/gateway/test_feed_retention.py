"""The gateway's retention rounds: the change feed pruned while it runs, unless retention is off."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg

from gateway.feed_retention import feed_retention
from gateway.settings import load_settings
from tests.resolvers.test_change_feed import history  # noqa: F401  (fixture)
from tests.resolvers.test_feed_retention import positions

SETTINGS = load_settings(env_file=None)


async def test_rounds_prune_what_is_due_and_survive_a_failed_round(pool: asyncpg.Pool, history: str) -> None:  # noqa: F811
    await pool.execute(
        "update change_events set occurred_at = now() - interval '400 days' where position <= 2"
    )
    settings = dataclasses.replace(SETTINGS, change_feed_retention_days=365)
    async with feed_retention(settings, pool, interval=0.05, first_delay=0) as task:
        assert task is not None
        async with asyncio.timeout(10):
            while await positions(pool) != [3, 4, 5]:
                await asyncio.sleep(0.02)
        # a round that fails (here: its table renamed away) is logged, and the next one runs
        async with pool.acquire() as conn:
            await conn.execute("alter table change_events rename to change_events_away")
            await asyncio.sleep(0.2)
            assert not task.done()
            await conn.execute("alter table change_events_away rename to change_events")
        await pool.execute(
            "update change_events set occurred_at = now() - interval '400 days' where position = 3"
        )
        async with asyncio.timeout(10):
            while await positions(pool) != [4, 5]:
                await asyncio.sleep(0.02)
    assert task.cancelled()


async def test_retention_off_keeps_every_event(pool: asyncpg.Pool, history: str) -> None:  # noqa: F811
    await pool.execute("update change_events set occurred_at = now() - interval '4000 days'")
    off = dataclasses.replace(SETTINGS, change_feed_retention_days=0)
    async with feed_retention(off, pool, interval=0.01, first_delay=0) as task:
        assert task is None
        await asyncio.sleep(0.1)
    assert await positions(pool) == [1, 2, 3, 4, 5]
