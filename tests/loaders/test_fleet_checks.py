"""Fleet check jobs in PostgreSQL: a report's chunks come back whole and in order, expired checks go."""

from __future__ import annotations

import uuid

from loaders import fleet_checks as sql
from loaders.db import Db


async def test_report_chunks_page_back_in_order(db: Db) -> None:
    check_id = await sql.create_check(db, "supplier-1", "csv", "parquet", ttl=60)
    chunks = [bytes([n]) * (n + 1) for n in range(sql.CHUNK_PAGE * 2 + 3)]  # three pages, the last short
    for seq, chunk in enumerate(chunks):
        await sql.store_chunk(db, check_id, seq, chunk)
    assert [c async for c in sql.report_chunks(db, check_id)] == chunks
    await sql.set_stage(db, check_id, "writing", 10)
    await sql.finish_check(db, check_id, {"summary": {"total": 10}, "tables": {}, "problems": []}, 99)
    found = await sql.get_check(db, check_id)
    assert found is not None
    assert (found.stage, found.rows, found.summary, found.report_bytes) == ("done", 10, {"total": 10}, 99)


async def test_expired_checks_are_gone_with_their_chunks(db: Db) -> None:
    kept = await sql.create_check(db, "supplier-1", "csv", "csv", ttl=3600)
    expired = await sql.create_check(db, "supplier-1", "csv", "csv", ttl=0)
    await sql.store_chunk(db, expired, 0, b"report")
    assert await sql.get_check(db, expired) is None  # past its time it is not served, even before deletion
    assert await sql.delete_expired(db) == 1
    assert await db.fetchval("select count(*) from fleet_check_chunks") == 0
    assert await sql.get_check(db, kept) is not None


async def test_a_finished_check_stays_as_it_finished(db: Db) -> None:
    """Declared failed (stale), a check is not moved on by its replica carrying on: not staged, not
    done, not touched, and its reason stays the first one given."""
    check_id = await sql.create_check(db, "supplier-1", "csv", "csv", ttl=60)
    await sql.fail_stale(db, check_id, 60, "stale")  # it has just moved: not stale
    assert (await _check(db, check_id)).stage == "queued"
    await db.execute(
        "update fleet_checks set updated_at = now() - interval '61 seconds' where id = $1", check_id
    )
    await sql.fail_stale(db, check_id, 60, "stale")
    failed = await _check(db, check_id)
    assert (failed.stage, failed.error) == ("failed", "stale")
    assert not await sql.set_stage(db, check_id, "writing", 10)
    assert not await sql.finish_check(db, check_id, {"summary": {}, "tables": {}, "problems": []}, 1)
    await sql.touch_check(db, check_id)
    await sql.fail_check(db, check_id, "internal error")
    assert await _check(db, check_id) == failed


async def _check(db: Db, check_id: uuid.UUID) -> sql.FleetCheckRow:
    found = await sql.get_check(db, check_id)
    assert found is not None
    return found
