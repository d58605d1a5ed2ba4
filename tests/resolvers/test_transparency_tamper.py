"""Tampering with the log itself: a dropped leaf breaks consistency and the audit; checkpoints only grow."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from loaders.db import Db
from resolvers import merkle, transparency
from resolvers.checkpoints import VerifierKey
from resolvers.log_verify import check_growth
from tests.builders import listing_input
from tests.resolvers.test_transparency import model, ok  # noqa: F401  (fixture)

ORIGIN = "fir-graph/log"
KEY = Ed25519PrivateKey.generate()
VKEY = VerifierKey(ORIGIN, KEY.public_key())


async def publish_entries(pool: asyncpg.Pool, numbers: range) -> None:
    for n in numbers:
        await ok(
            pool,
            "mutation($input: CplEntryInput!) { listCplEntry(input: $input) { number } }",
            input=listing_input(n, f"127000{n:02d}"),
        )


async def signed(db: Db) -> str:
    row = await transparency.sign_checkpoint(db, ORIGIN, KEY)
    assert row is not None
    return row.note


async def proof(db: Db, old: int, new: int) -> dict[str, object]:
    import base64

    path = await transparency.consistency(db, old, new)
    assert path is not None
    return {"from": old, "to": new, "path": [base64.b64encode(h).decode() for h in path]}


async def drop_leaf_and_rebuild(pool: asyncpg.Pool, index: int) -> None:
    """What an intruder with the database (triggers off) and even the signing key would do."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("alter table tlog_leaves disable trigger user")
        await conn.execute("alter table tlog_nodes disable trigger user")
        leaves = [bytes(r["leaf"]) for r in await conn.fetch("select leaf from tlog_leaves order by idx")]
        del leaves[index]
        await conn.execute("delete from tlog_leaves where idx >= $1", index)
        await conn.executemany(
            "insert into tlog_leaves (idx, leaf, entity_type, entity_id) values ($1, $2, 'CplEntry', 'x')",
            [(i, leaf) for i, leaf in enumerate(leaves) if i >= index],
        )
        await conn.execute("delete from tlog_nodes")
        nodes = merkle.new_nodes(0, {}, [merkle.leaf_hash(x) for x in leaves])
        await conn.executemany(
            "insert into tlog_nodes values ($1, $2, $3)", [(lv, i, h) for (lv, i), h in nodes.items()]
        )
        await conn.execute("alter table tlog_leaves enable trigger user")
        await conn.execute("alter table tlog_nodes enable trigger user")


@pytest.mark.usefixtures("model")
async def test_honest_growth_is_consistent(pool: asyncpg.Pool, db: Db) -> None:
    await publish_entries(pool, range(1, 4))
    stored = await signed(db)
    await publish_entries(pool, range(4, 9))
    newer = await signed(db)
    assert check_growth(VKEY, stored, newer, await proof(db, 3, 8)) == []
    assert (await transparency.audit(db)).problems == []


@pytest.mark.usefixtures("model")
async def test_a_dropped_leaf_fails_consistency_and_the_audit(pool: asyncpg.Pool, db: Db) -> None:
    await publish_entries(pool, range(1, 6))
    stored = await signed(db)
    await drop_leaf_and_rebuild(pool, 2)
    audit = await transparency.audit(db)
    assert audit.problems == ["checkpoint of size 5 but only 4 leaves"]
    await publish_entries(pool, range(6, 9))  # the forged log keeps growing, and is signed
    newer = await signed(db)
    problems = check_growth(VKEY, stored, newer, await proof(db, 5, 7))
    assert problems == ["the log of size 7 does not extend the stored one of size 5"]


@pytest.mark.usefixtures("model")
async def test_an_edited_leaf_fails_the_audit(pool: asyncpg.Pool, db: Db) -> None:
    await publish_entries(pool, range(1, 4))
    await signed(db)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("alter table tlog_leaves disable trigger user")
        await conn.execute(
            "update tlog_leaves set leaf = convert_to(replace(convert_from(leaf, 'UTF8'), 'CURRENT', 'REMOVED'), 'UTF8') where idx = 1"
        )
        await conn.execute("alter table tlog_leaves enable trigger user")
    problems = (await transparency.audit(db)).problems
    assert "checkpoint of size 3 does not match the leaves' root" in problems
    assert any("level 0 index 1" in p for p in problems)


@pytest.mark.usefixtures("model")
async def test_a_replayed_or_forked_checkpoint_is_detected(pool: asyncpg.Pool, db: Db) -> None:
    await publish_entries(pool, range(1, 3))
    old = await signed(db)
    await publish_entries(pool, range(3, 5))
    new = await signed(db)
    assert "replayed" in check_growth(VKEY, new, old, None)[0]
    forked = old.replace(old.split("\n")[2], "A" * 43 + "=")
    assert "no valid signature" in check_growth(VKEY, old, forked, None)[0]
    other = VerifierKey(ORIGIN, Ed25519PrivateKey.generate().public_key())
    assert "no valid signature" in check_growth(other, old, new, None)[0]


@pytest.mark.usefixtures("model")
async def test_one_checkpoint_per_size_and_none_without_growth(pool: asyncpg.Pool, db: Db) -> None:
    assert await transparency.sign_checkpoint(db, ORIGIN, KEY) is None  # empty log
    await publish_entries(pool, range(1, 3))
    await signed(db)
    assert await transparency.sign_checkpoint(db, ORIGIN, KEY) is None
    with pytest.raises(asyncpg.RestrictViolationError):
        await pool.execute("delete from tlog_checkpoints")


@pytest.mark.usefixtures("model")
async def test_signing_gives_up_soon_behind_an_open_write_and_signs_after_it(
    pool: asyncpg.Pool, db: Db
) -> None:
    """A signed checkpoint moves the data version (migration 0014), whose row every open write holds:
    behind a long import the signer waited, holding its lock and a connection, up to 60 s."""
    await publish_entries(pool, range(1, 3))
    async with pool.acquire() as writer, writer.transaction():
        await writer.execute("update manufacturers set name = name")  # the trigger takes the row
        started = asyncio.get_running_loop().time()
        with pytest.raises(asyncpg.LockNotAvailableError):
            await transparency.sign_checkpoint(db, ORIGIN, KEY)
        assert asyncio.get_running_loop().time() - started < 5
    await signed(db)  # the write committed: the next turn signs
