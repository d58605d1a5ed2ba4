"""A fleet check reported failed because it stopped moving stays failed: its replica cannot turn it done."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from gateway import fleet_checks
from loaders import fleet_checks as sql
from loaders.db import Db
from tests.builders import Builder
from tests.gateway.test_fleet_jobs_heartbeat import jobs_on, shown, submit


async def test_a_check_shown_failed_as_stale_stops_and_stores_no_report(
    pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its replica was only slow (here the check waited for a slot and beat too rarely): once GET has
    said failed, the job stops at its next stage, and nothing it does after shows."""
    monkeypatch.setattr(fleet_checks, "STALE_AFTER_SECONDS", 0.5)
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002", "00000003")
    db = Db(pool)
    jobs = jobs_on(pool, tmp_path, heartbeat=3600)
    await jobs._slots.acquire()  # a check ahead of it has the replica's one slot
    check_id = await submit(jobs, db, 10)
    await db.execute(
        "update fleet_checks set updated_at = now() - interval '1 second' where id = $1", check_id
    )
    assert await shown(db, check_id) == "failed"
    jobs._slots.release()
    async with asyncio.timeout(60):
        await asyncio.gather(*jobs._tasks)
    found = await sql.get_check(db, check_id)
    assert found is not None and (found.stage, found.error) == ("failed", fleet_checks.STALE)
    assert await db.fetchval("select count(*) from fleet_check_chunks where check_id = $1", check_id) == 0
