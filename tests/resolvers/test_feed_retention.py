"""Retention of the change feed: the oldest events pruned, audited, and a cursor from before them refused."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import asyncpg

from loaders import changes as feed
from loaders.audit import Actor
from loaders.changes import FeedEntry, FeedFilter
from loaders.db import Db
from resolvers import change_feed
from resolvers.events import ReleaseEvents
from resolvers.feed_retention import prune
from resolvers.pagination import encode_cursor
from tests.builders import SECAS, audit_rows, context_for, execute
from tests.resolvers.test_change_feed import CHANGES, SCHEMA, history, run  # noqa: F401  (fixture)

WHO = Actor("test:retention", "SECAS")
DAY = dt.timedelta(days=1)


async def age(pool: asyncpg.Pool, days: dict[int, int]) -> None:
    """Backdates events: position -> how many days ago it occurred."""
    for position, ago in days.items():
        await pool.execute(
            "update change_events set occurred_at = now() - make_interval(days => $2) where position = $1",
            position,
            ago,
        )


def cursor(position: int) -> str:
    return encode_cursor(change_feed.CURSOR_KIND, str(position))


async def positions(pool: asyncpg.Pool) -> list[int]:
    return [r["position"] for r in await pool.fetch("select position from change_events order by position")]


async def test_the_oldest_events_are_pruned_as_a_prefix_and_audited(pool: asyncpg.Pool, history: str) -> None:  # noqa: F811
    # 1 and 2 are old, 3 is recent, 4 is old again (a transaction that began long ago and committed late):
    # only the prefix goes, so the feed still holds every position after the horizon
    await age(pool, {1: 400, 2: 380, 3: 10, 4: 500})
    version = await pool.fetchval("select version from data_version")
    pruned = await prune(Db(pool), WHO, dt.timedelta(days=365))
    assert (pruned.deleted, pruned.through) == (2, 2)
    assert await positions(pool) == [3, 4, 5]
    assert await pool.fetchval("select pruned_through from change_feed_counter") == 2
    assert await pool.fetchval("select version from data_version") > version  # cached pages are dropped
    last = (await audit_rows(pool))[-1]
    assert (last["action"], last["entity_type"], last["actor"]) == (
        "changeFeed.prune",
        "ChangeFeed",
        "test:retention",
    )
    # nothing due: nothing written, not even an audit event
    events = len(await audit_rows(pool))
    assert await prune(Db(pool), WHO, dt.timedelta(days=365)) == feed.Pruned(0, 2)
    assert len(await audit_rows(pool)) == events
    # everything due: the horizon is the last position given out
    everything = await prune(Db(pool), WHO, dt.timedelta(days=1), now=dt.datetime.now(dt.UTC) + 1000 * DAY)
    assert everything == feed.Pruned(3, 5) and await positions(pool) == []


async def test_a_cursor_from_before_the_horizon_is_refused_and_one_at_it_resumes(
    pool: asyncpg.Pool,
    history: str,  # noqa: F811
) -> None:
    await age(pool, {1: 400, 2: 400})
    await prune(Db(pool), WHO, dt.timedelta(days=365))
    expired = await execute(SCHEMA, pool, CHANGES, SECAS, after=cursor(1))
    assert expired.data is None
    [error] = expired.errors
    assert error.extensions["code"] == "CURSOR_EXPIRED" and error.extensions["prunedThrough"] == 2
    assert "FIR_CHANGE_FEED_RETENTION_DAYS" in error.message
    at_horizon = await run(pool, CHANGES, SECAS, after=cursor(2))
    assert [e["node"]["kind"] for e in at_horizon["changes"]["edges"]] == [
        "CONTACTS_CHANGED",
        "RELEASE_WITHDRAWN",
        "CPL_ENTRY_REMOVED",
    ]
    # no cursor: from the oldest event still held, as a new portal would start
    fresh = await run(pool, CHANGES, SECAS)
    assert fresh["changes"]["edges"][0]["cursor"] == cursor(3)


async def test_the_subscription_refuses_an_expired_cursor_and_starts_at_the_horizon_without_one(
    pool: asyncpg.Pool,
    history: str,  # noqa: F811
) -> None:
    await age(pool, {1: 400, 2: 400, 3: 400})
    await prune(Db(pool), WHO, dt.timedelta(days=365))
    ctx = dataclasses.replace(context_for(pool, SECAS), events=ReleaseEvents())
    stale = change_feed.changed(ctx, cursor(2), FeedFilter())
    try:
        await asyncio.wait_for(anext(stale), 5)
        raise AssertionError("an expired cursor streamed")
    except change_feed.CursorExpired as error:
        assert error.extra == {"prunedThrough": 3}
    live = change_feed.changed(ctx, None, FeedFilter())
    first = await asyncio.wait_for(anext(live), 5)
    assert first.position == 4
    await live.aclose()


async def test_a_prune_waits_for_a_writer_holding_positions(pool: asyncpg.Pool, history: str) -> None:  # noqa: F811
    """The counter row's lock: a writer that took position 6 and has not committed yet is waited for, so
    the horizon is never set while a position below it may still appear."""
    await age(pool, {p: 400 for p in range(1, 6)})
    async with Db(pool).transaction() as tx:
        await feed.append(tx, [FeedEntry("CONTACTS_CHANGED", "106C", "fir")])
        await tx.execute(
            "update change_events set occurred_at = now() - interval '400 days' where position = 6"
        )
        pruning = asyncio.create_task(prune(Db(pool), WHO, dt.timedelta(days=365)))
        async with asyncio.timeout(10):
            while not await pool.fetchval(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
            ):
                await asyncio.sleep(0.02)
        assert not pruning.done()  # waiting on the counter row, which the writer holds
    pruned = await asyncio.wait_for(pruning, 10)
    assert pruned == feed.Pruned(6, 6) and await positions(pool) == []


async def test_a_subscriber_that_falls_behind_retention_ends_rather_than_skips(
    pool: asyncpg.Pool,
    history: str,  # noqa: F811
) -> None:
    events = ReleaseEvents()
    ctx = dataclasses.replace(context_for(pool, SECAS), events=events)
    stream = change_feed.changed(ctx, cursor(5), FeedFilter())  # up to date: it waits for a wake-up
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    # two events land and retention prunes them before the subscriber reads: its next read finds
    # nothing after 5, which must not pass for "nothing new"
    async with Db(pool).transaction() as tx:
        await feed.append(tx, [FeedEntry("CONTACTS_CHANGED", "106C", "fir")] * 2)
    await age(pool, {p: 400 for p in range(1, 8)})
    assert (await prune(Db(pool), WHO, dt.timedelta(days=365))).through == 7
    events.wake_change_readers()
    try:
        await asyncio.wait_for(waiting, 5)
        raise AssertionError("the stream went on past pruned events")
    except change_feed.CursorExpired as error:
        assert error.extra == {"prunedThrough": 7}


async def test_a_subscriber_whose_filter_matches_nothing_reads_on_from_the_feeds_end(
    pool: asyncpg.Pool,
    history: str,  # noqa: F811
) -> None:
    """Its position moved only with an event sent: a filter that matched nothing (kinds it rarely
    sees, a publisher among other makers' events) re-read the whole feed after its cursor at every
    wake-up (200,000 events: 0.7 s of queries per subscriber, every 2 s), and once retention pruned
    past that cursor the stream ended CURSOR_EXPIRED though it had missed nothing."""
    events = ReleaseEvents()
    ctx = dataclasses.replace(context_for(pool, SECAS), events=events)
    stream = change_feed.changed(ctx, cursor(5), FeedFilter(kinds=frozenset({"CPL_ENTRY_UPDATED"})))
    waiting = asyncio.ensure_future(anext(stream))
    async with Db(pool).transaction() as tx:
        await feed.append(tx, [FeedEntry("CONTACTS_CHANGED", "106C", "fir")] * 2)  # 6 and 7: not asked for
    events.wake_change_readers()
    await asyncio.sleep(1)  # it reads 6 and 7 (nothing to send) and waits again
    assert not waiting.done()
    await age(pool, {p: 400 for p in range(1, 8)})
    assert (await prune(Db(pool), WHO, dt.timedelta(days=365))).through == 7
    async with Db(pool).transaction() as tx:
        await feed.append(tx, [FeedEntry("CPL_ENTRY_UPDATED", "106C", "public")])
    events.wake_change_readers()
    row = await asyncio.wait_for(waiting, 5)
    assert (row.position, row.kind) == (8, "CPL_ENTRY_UPDATED")
    await stream.aclose()


async def test_a_short_page_comes_with_the_feeds_last_position(pool: asyncpg.Pool, history: str) -> None:  # noqa: F811
    only = FeedFilter(kinds=frozenset({"CPL_ENTRY_UPDATED"}))
    found, mark = await feed.page_and_mark(
        Db(pool), after=0, limit=100, who=change_feed.audience_of(SECAS), where=only
    )
    assert (found, mark) == ([], 5)
    every, mark = await feed.page_and_mark(
        Db(pool), after=3, limit=100, who=change_feed.audience_of(SECAS), where=FeedFilter()
    )
    assert [r.position for r in every] == [4, 5] and mark == 5
