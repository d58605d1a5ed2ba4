"""loaders/db.py: plan modes (a small batch by keys is planned once per connection) and the order connections are given in."""

from __future__ import annotations

import asyncio

import asyncpg

from loaders.db import GENERIC_PLAN_MAX_KEYS, Db, close_pool, create_pool, gate_of

# the shape of every DataLoader batch: rows joined to arrays of keys
BY_KEYS = (
    "select c.number from unnest($1::text[], $2::text[]) as k(m, mo)"
    " join cpl_entries c on c.manufacturer_id = k.m and c.model_id = k.mo order by c.number"
)
MODE = "select current_setting('plan_cache_mode') as mode, $1::text[] as keys"


async def _plans(pool: asyncpg.Pool, sql: str) -> tuple[int, int]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "select generic_plans, custom_plans from pg_prepared_statements where statement = $1", sql
        )
    assert row is not None, "asyncpg prepares every statement it runs"
    return row["generic_plans"], row["custom_plans"]


async def test_a_small_keyed_batch_runs_in_generic_mode_and_a_plain_read_does_not(
    one_connection: asyncpg.Pool,
) -> None:
    db = Db(one_connection)
    assert (await db.fetch_keyed(MODE, ["a"]))[0]["mode"] == "force_generic_plan"
    assert (await db.fetch(MODE, ["a"]))[0]["mode"] == "auto"  # switched back for a search
    assert (await db.fetch_keyed(MODE, ["a"]))[0]["mode"] == "force_generic_plan"
    many = ["k"] * (GENERIC_PLAN_MAX_KEYS + 1)
    assert (await db.fetch_keyed(MODE, many))[0]["mode"] == "auto"  # a fleet keeps custom plans


async def test_a_small_keyed_batch_is_planned_once_and_answers_the_same(one_connection: asyncpg.Pool) -> None:
    db = Db(one_connection)
    keys = (["1001", "1002"], ["0001", "0002"])
    for _ in range(8):
        keyed = await db.fetch_keyed(BY_KEYS, *keys)
    generic, custom = await _plans(one_connection, BY_KEYS)
    assert (generic, custom) == (8, 0)
    # the same statement read plainly: PostgreSQL makes custom plans, at least its first five
    for _ in range(8):
        plain = await db.fetch(BY_KEYS, *keys)
    _, custom_after = await _plans(one_connection, BY_KEYS)
    assert custom_after >= 5
    assert [r["number"] for r in plain] == [r["number"] for r in keyed]


async def test_a_transaction_and_a_plain_write_run_in_postgres_own_mode(one_connection: asyncpg.Pool) -> None:
    db = Db(one_connection)
    await db.fetch_keyed(MODE, ["a"])  # the backend is in generic mode now
    async with db.transaction() as tx:
        # reset before the transaction begins (a SET inside it would be undone by a rollback)
        assert (await tx.fetch(MODE, ["a"]))[0]["mode"] == "auto"
        # and inside it, even a keyed read leaves the connection as it is
        assert (await tx.fetch_keyed(MODE, ["a"]))[0]["mode"] == "auto"
    await db.fetch_keyed(MODE, ["a"])
    await db.execute("create temporary table plan_probe as select current_setting('plan_cache_mode') as mode")
    assert (await db.fetch_keyed("select mode from plan_probe where $1::text[] is not null", ["a"]))[0][
        "mode"
    ] == "auto"


async def test_reset_restores_what_the_database_configures(db_url: str, one_connection: asyncpg.Pool) -> None:
    """Back from generic mode the backend reads the database's own setting, not a hard-coded `auto`."""
    async with one_connection.acquire() as conn:
        name = await conn.fetchval("select current_database()")
        await conn.execute(f'alter database "{name}" set plan_cache_mode = force_custom_plan')
    pool = await create_pool(db_url, min_size=1, max_size=1)  # new backends read the database setting
    try:
        db = Db(pool)
        assert (await db.fetch_keyed(MODE, ["a"]))[0]["mode"] == "force_generic_plan"
        assert (await db.fetch(MODE, ["a"]))[0]["mode"] == "force_custom_plan"
    finally:
        await pool.close()
        async with one_connection.acquire() as conn:
            await conn.execute(f'alter database "{name}" reset plan_cache_mode')


async def test_the_modes_are_kept_per_backend(db_url: str) -> None:
    """Two connections: each is switched only when its own mode differs."""
    pool = await create_pool(db_url, min_size=2, max_size=2)
    try:
        db = Db(pool)
        async with pool.acquire() as a, pool.acquire() as b:
            pids = {a.get_server_pid(), b.get_server_pid()}
        modes = await asyncio.gather(*(db.fetch_keyed(MODE + ", pg_sleep(0.05)", ["a"]) for _ in range(2)))
        assert {m[0]["mode"] for m in modes} == {"force_generic_plan"}
        plain = await asyncio.gather(*(db.fetch(MODE + ", pg_sleep(0.05)", ["a"]) for _ in range(2)))
        assert {m[0]["mode"] for m in plain} == {"auto"}
        assert len(pids) == 2
    finally:
        await pool.close()


async def test_statements_queue_at_the_pools_gate_not_inside_the_pool(db_url: str) -> None:
    """Statements wait for a connection at a first-come-first-served semaphore of the pool's size
    (asyncpg's own queue lets a newcomer pass a waiter it woke: at 64 clients on 10 connections the
    lineage p99 was 803 ms at a p50 of 34 ms, and 89 ms at 67 ms behind the gate; BENCHMARKS.md)."""
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        db = Db(pool)
        gate = gate_of(pool)
        assert gate is not None and not gate.locked()
        running = [asyncio.ensure_future(db.fetch("select pg_sleep(0.3)")) for _ in range(4)]
        await asyncio.sleep(0.1)
        assert gate.locked()  # two hold connections, two wait here, first come first served
        await asyncio.gather(*running)
        assert not gate.locked()
    finally:
        await close_pool(pool)
    assert gate_of(pool) is None  # closed: forgotten
