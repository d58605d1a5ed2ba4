"""loaders/db.py's plan modes: a small batch by keys is planned once per connection, everything else as PostgreSQL chooses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from loaders.db import GENERIC_PLAN_MAX_KEYS, Db, create_pool

# the shape of every DataLoader batch: rows joined to arrays of keys
BY_KEYS = (
    "select c.number from unnest($1::text[], $2::text[]) as k(m, mo)"
    " join cpl_entries c on c.manufacturer_id = k.m and c.model_id = k.mo order by c.number"
)
MODE = "select current_setting('plan_cache_mode') as mode, $1::text[] as keys"


@pytest.fixture
async def one_connection(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection: every statement below runs on the same backend."""
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


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


async def test_inside_a_transaction_the_connection_is_left_as_it_is(one_connection: asyncpg.Pool) -> None:
    db = Db(one_connection)
    await db.fetch_keyed(MODE, ["a"])  # the backend is in generic mode now
    async with db.transaction() as tx:
        # no SET inside a transaction (a rollback would undo it behind the bookkeeping's back)
        assert (await tx.fetch(MODE, ["a"]))[0]["mode"] == "force_generic_plan"
    assert (await db.fetch(MODE, ["a"]))[0]["mode"] == "auto"
