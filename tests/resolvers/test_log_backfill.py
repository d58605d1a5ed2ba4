"""Backfill: facts written outside the unit of work (a database from before the log, demo data) get their leaves."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from gateway.cli import app
from loaders.audit import Actor
from loaders.db import Db
from loaders.vocabulary import EntityType
from resolvers import log_backfill, log_proofs, transparency
from resolvers.checkpoints import VerifierKey
from tests.builders import Builder, listing_input
from tests.resolvers.test_transparency import model, ok  # noqa: F401  (fixture)
from tests.verifier import standalone

ORIGIN = "fir-graph/log"
WHO = Actor("operator", None)
KEY = Ed25519PrivateKey.generate()


async def kinds(pool: asyncpg.Pool) -> list[tuple[str, str, str]]:
    found = await pool.fetch("select entity_type, entity_id, leaf from tlog_leaves order by idx")
    return [(r["entity_type"], r["entity_id"], json.loads(bytes(r["leaf"]))["event"]) for r in found]


async def before_the_log(pool: asyncpg.Pool) -> None:
    """Rows as a database from before the log holds them: written by SQL, not through the unit of work."""
    async with pool.acquire() as conn:
        build = Builder(conn)
        await build.manufacturer("2A4F")  # with a firmware contact
        await build.model("2A4F", "0101")
        await build.release("2A4F", "0101", "0001", "00000001", date="2024-01-01")
        await build.release("2A4F", "0101", "0001", "00000002", date="2024-02-01", status="WITHDRAWN")
        await build.release("2A4F", "0101", "0001", "00000003", date="2024-03-01", status="SUBMITTED")
        await build.entry("2A4F", "0101", "0001", "00000004", status="REMOVED")


@pytest.mark.usefixtures("model")
async def test_backfill_logs_each_unlogged_fact_once_as_the_unit_of_work_would(
    pool: asyncpg.Pool, db: Db
) -> None:
    await ok(
        pool,
        "mutation($i: CplEntryInput!) { listCplEntry(input: $i) { number } }",
        i=listing_input(1, "12700001"),
    )
    logged = await kinds(pool)
    await before_the_log(pool)
    assert await log_backfill.backfill(db, WHO) == 8
    added = (await kinds(pool))[len(logged) :]
    assert sorted(added) == sorted(
        [
            ("CplEntry", "1001", "listed"),
            ("CplEntry", "1002", "listed"),  # the withdrawn release's entry
            ("CplEntry", "1003", "listed"),  # the submission's entry is listed: a public fact
            ("CplEntry", "1004", "removed"),
            ("FirmwareRelease", await _release_id(pool, "00000001"), "published"),
            ("FirmwareRelease", await _release_id(pool, "00000002"), "withdrawn"),
            ("Manufacturer", "106C", "set"),  # the fixture's contacts, also written by SQL
            ("Manufacturer", "2A4F", "set"),
        ]
    )  # the entry listed through the graph already had its leaf; the submission is not public
    assert await log_backfill.backfill(db, WHO) == 0
    assert (await transparency.audit(db)).problems == []
    events = await pool.fetch("select actor, after from audit_events where action = 'log.backfill'")
    assert [(e["actor"], e["after"]) for e in events] == [("operator", {"first_leaf": 1, "leaves": 8})]


async def _release_id(pool: asyncpg.Pool, version: str) -> str:
    return str(await pool.fetchval("select id from firmware_releases where firmware_version = $1", version))


async def test_two_backfills_at_once_append_each_fact_once(pool: asyncpg.Pool, db: Db) -> None:
    await before_the_log(pool)
    appended = await asyncio.gather(log_backfill.backfill(db, WHO), log_backfill.backfill(db, WHO))
    assert sorted(appended) == [0, 7]
    assert (await transparency.audit(db)).problems == []


async def test_backfill_reports_its_progress(
    pool: asyncpg.Pool, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    await before_the_log(pool)
    monkeypatch.setattr(log_backfill, "CHUNK", 2)
    seen: list[tuple[int, int]] = []
    await log_backfill.backfill(db, WHO, lambda done, total: seen.append((done, total)))
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]  # entries 2 + 2, releases 2, contacts 1


def test_fir_demo_data_then_every_published_fact_has_a_proof_the_independent_verifier_accepts(
    db_url: str, tmp_path: Any
) -> None:
    env = {"DATABASE_URL": db_url, "FIR_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["demo-data"], env=env)
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(app, ["log", "backfill"], env=env)
    assert again.exit_code == 0 and "every published fact has a leaf" in again.output
    asyncio.run(_every_fact_verifies(db_url))


async def _every_fact_verifies(url: str) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert pool is not None
    try:
        db = Db(pool)
        checkpoint = await transparency.sign_checkpoint(db, ORIGIN, KEY)
        assert checkpoint is not None
        vkey = VerifierKey(ORIGIN, KEY.public_key()).text()
        _, size, root = standalone.open_note(checkpoint.note, vkey)
        entries = await pool.fetch("select number::text as id, image_hash, status::text from cpl_entries")
        releases = await pool.fetch(
            "select id::text as id, image_hash, status::text from firmware_releases"
            " where status = 'PUBLISHED' or (status = 'WITHDRAWN' and published_at is not null)"
        )
        assert len(entries) > 100 and len(releases) > 100
        for entity_type, facts in ((EntityType.CPL_ENTRY, entries), (EntityType.FIRMWARE_RELEASE, releases)):
            proofs = await log_proofs.checkpointed_proofs(
                db, checkpoint, entity_type, [f["id"] for f in facts]
            )
            for fact, proof in zip(facts, proofs, strict=True):
                assert proof is not None, f"{entity_type} {fact['id']} has no proof"
                leaf = json.loads(proof.leaf)
                assert (leaf["image_hash"], leaf["status"]) == (fact["image_hash"], fact["status"])
                assert standalone.inclusion_ok(
                    proof.leaf_index, size, standalone.canonical_leaf(leaf), proof.inclusion_path, root
                )
    finally:
        await pool.close()


async def with_an_oversized_contact_set(pool: asyncpg.Pool) -> None:
    await before_the_log(pool)
    await pool.execute(  # as COPY loads it, past every input cap: a contact set of 70,000 bytes
        "insert into contacts (manufacturer_id, role, name, position) values ('2A4F', 'SUPPORT', $1, 1)",
        "n" * 70_000,
    )


async def test_backfill_refuses_a_fact_too_large_for_the_log_naming_it_and_appends_nothing(
    pool: asyncpg.Pool, db: Db
) -> None:
    await with_an_oversized_contact_set(pool)
    with pytest.raises(transparency.LeafTooLarge, match="Manufacturer 2A4F would be a log leaf of 702"):
        await log_backfill.backfill(db, WHO)
    assert await kinds(pool) == []


def test_fir_log_backfill_says_which_fact_is_too_large(db_url: str) -> None:
    async def prepare() -> None:
        pool = await asyncpg.create_pool(db_url, min_size=1, max_size=1)
        assert pool is not None
        try:
            await with_an_oversized_contact_set(pool)
        finally:
            await pool.close()

    asyncio.run(prepare())
    result = CliRunner().invoke(app, ["log", "backfill"], env={"DATABASE_URL": db_url})
    assert result.exit_code == 1, result.output
    assert (
        "Manufacturer 2A4F would be a log leaf of 702" in result.output
        and "nothing appended" in result.output
    )
