"""loaders/pool_release.py: a connection with nothing to undo goes back to the pool at once; any other
is left to asyncpg's own (shielded, awaited) release, which rolls back, waits or closes as it must."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from loaders.db import Db, _keep_session
from loaders.pool_release import release_now


def count_awaited_releases(pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection of `pool` handed to `Pool.release` (asyncpg's own path); the class is patched
    for the test (a Pool has slots), and still releases."""
    seen: list[Any] = []
    release = asyncpg.Pool.release

    async def counted(self: asyncpg.Pool, connection: Any, **options: Any) -> None:
        if self is pool:
            seen.append(connection)
        await release(self, connection, **options)

    monkeypatch.setattr(asyncpg.Pool, "release", counted)
    return seen


async def test_a_finished_statement_gives_its_connection_back_before_anything_is_awaited(
    one_connection: asyncpg.Pool,
) -> None:
    pool = one_connection
    conn = await pool.acquire()
    pid = conn.get_server_pid()
    assert await conn.fetchval("select 1") == 1
    assert pool.get_idle_size() == 0
    assert release_now(pool, conn, _keep_session)
    assert pool.get_idle_size() == 1  # back in the queue, no task and no loop turn taken
    with pytest.raises(asyncpg.InterfaceError):
        await conn.fetchval("select 1")  # the proxy is detached, as after asyncpg's release
    again = await pool.acquire()
    assert again.get_server_pid() == pid and await again.fetchval("select 2") == 2
    await pool.release(again)


async def test_an_open_transaction_is_left_to_asyncpg_which_rolls_it_back(
    one_connection: asyncpg.Pool,
) -> None:
    pool = one_connection
    conn = await pool.acquire()
    await conn.execute("begin")
    await conn.execute("create temporary table left_open (x int)")
    assert not release_now(pool, conn, _keep_session)
    assert pool.get_idle_size() == 0
    await pool.release(conn)
    again = await pool.acquire()
    assert not again.is_in_transaction()
    assert await again.fetchval("select to_regclass('pg_temp.left_open')") is None  # rolled back
    await pool.release(again)


async def test_a_pool_with_another_reset_is_left_to_asyncpg(db_url: str) -> None:
    async def reset(conn: asyncpg.Connection) -> None:
        await conn.execute("reset all")

    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=1, reset=reset)
    try:
        conn = await pool.acquire()
        assert not release_now(pool, conn, _keep_session)
        await pool.release(conn)
        assert pool.get_idle_size() == 1
    finally:
        await pool.close()


async def test_a_spent_connection_is_left_to_asyncpg_which_closes_it(db_url: str) -> None:
    # our pools' reset, so that only max_queries (reached after one statement) stands in the way
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=1, max_queries=1, reset=_keep_session)
    try:
        conn = await pool.acquire()
        pid = conn.get_server_pid()
        await conn.fetchval("select 1")
        assert not release_now(pool, conn, _keep_session)
        await pool.release(conn)
        again = await pool.acquire()
        assert again.get_server_pid() != pid  # the spent one was closed, a new one made
        await pool.release(again)
    finally:
        await pool.close()


async def test_db_statements_take_the_quick_way_and_an_open_transaction_the_long_one(
    one_connection: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = one_connection
    awaited = count_awaited_releases(pool, monkeypatch)
    db = Db(pool)
    for k in range(20):
        assert await db.fetchval("select $1::int", k) == k
    assert awaited == []
    await db.execute("begin")  # a statement that leaves its connection in a transaction
    assert len(awaited) == 1
    assert await db.fetchval("select pg_current_xact_id_if_assigned() is null")
    assert pool.get_idle_size() == 1


async def test_a_cancelled_statement_still_returns_its_connection(
    one_connection: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = one_connection
    awaited = count_awaited_releases(pool, monkeypatch)
    db = Db(pool)
    sleeping = asyncio.ensure_future(db.fetchval("select pg_sleep(30)"))
    await asyncio.sleep(0.2)
    sleeping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeping
    assert len(awaited) == 1
    assert await asyncio.wait_for(db.fetchval("select 3"), 10) == 3
