"""Expired fleet checks go with their reports while the gateway runs, whether or not anyone uploads."""

from __future__ import annotations

import asyncio

import asyncpg

from gateway.fleet_jobs import expiring
from loaders import fleet_checks as sql
from loaders.db import Db


async def test_rounds_delete_expired_checks_and_survive_a_failed_round(pool: asyncpg.Pool) -> None:
    db = Db(pool)
    kept = await sql.create_check(db, "supplier-1", "csv", "csv", ttl=3600)
    expired = await sql.create_check(db, "supplier-1", "csv", "csv", ttl=0)
    await sql.store_chunk(db, expired, 0, b"report")

    async def ids() -> set[object]:
        return {r["id"] for r in await pool.fetch("select id from fleet_checks")}

    async with expiring(pool, interval=0.05, first_delay=0) as task:
        async with asyncio.timeout(10):
            while await ids() != {kept}:
                await asyncio.sleep(0.02)
        assert await pool.fetchval("select count(*) from fleet_check_chunks") == 0
        # a round that fails (its table renamed away) is logged, and the next one runs
        async with pool.acquire() as conn:
            await conn.execute("alter table fleet_checks rename to fleet_checks_away")
            await asyncio.sleep(0.2)
            assert not task.done()
            await conn.execute("alter table fleet_checks_away rename to fleet_checks")
        await pool.execute("update fleet_checks set expires_at = now() where id = $1", kept)
        async with asyncio.timeout(10):
            while await ids():
                await asyncio.sleep(0.02)
    assert task.cancelled()
