"""The transparency log: published facts become leaves in the same transaction, appends serialised, never rewritten."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from loaders import release_writes as rw
from loaders import tlog
from loaders.db import Db
from resolvers import log_leaves, merkle, transparency
from schema.schema import build_schema
from tests.builders import SECAS, Builder, execute, image_hash, listing_input, submission_input

SCHEMA = build_schema()
SUBMIT = (
    "mutation($input: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $input) { id status } }"
)
LIST = "mutation($input: CplEntryInput!) { listCplEntry(input: $input) { number status } }"
WITHDRAW = 'mutation($id: ID!) { withdrawFirmwareRelease(id: $id, reason: "bad") { id status } }'


@pytest.fixture
async def model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).manufacturer("106C")
        await Builder(conn).model("106C", "4331", "CHF")


async def leaves(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [
        json.loads(bytes(r["leaf"])) for r in await pool.fetch("select leaf from tlog_leaves order by idx")
    ]


async def ok(pool: asyncpg.Pool, query: str, **variables: Any) -> Any:
    result = await execute(SCHEMA, pool, query, SECAS, **variables)
    assert result.errors is None, result.errors
    return result.data


@pytest.mark.usefixtures("model")
async def test_a_submission_is_not_logged_until_published(pool: asyncpg.Pool) -> None:
    await ok(pool, SUBMIT, input=submission_input("12700001"))
    assert await leaves(pool) == []
    await ok(pool, LIST, input=listing_input(7, "12700001"))
    logged = await leaves(pool)
    assert [(x["type"], x["event"]) for x in logged] == [("cpl_entry", "listed"), ("release", "published")]
    assert logged[1]["image_hash"] == image_hash("12700001") and logged[1]["v"] == 2
    assert logged[1]["status"] == "PUBLISHED" and logged[1]["cpl_entry_number"] == 7


@pytest.mark.usefixtures("model")
async def test_a_fir_fact_cannot_be_guessed_from_its_hash(pool: asyncpg.Pool) -> None:
    """Tiles and proofs (public) give every leaf's hash. A release's leaf held only facts an outsider
    knows or can enumerate (the public CPL identity and hash, a small id, a status, a few sources):
    hashing guesses found it, and so which entries have FIR records and their upgrade paths. Each
    FIR leaf now carries 128 random bits; a CPL entry's, a public fact, needs none."""
    await ok(pool, LIST, input=listing_input(7, "12700001"))
    await ok(pool, SUBMIT, input=submission_input("12700001"))
    cpl, release = await leaves(pool)
    assert "salt" not in cpl and len(release["salt"]) == 32 and int(release["salt"], 16) >= 0
    guess = {k: v for k, v in release.items() if k != "salt"}
    hashes = {bytes(r["hash"]) for r in await pool.fetch("select hash from tlog_nodes where level = 0")}
    assert merkle.leaf_hash(log_leaves.canonical(guess)) not in hashes
    assert merkle.leaf_hash(log_leaves.canonical(guess | {"v": 1})) not in hashes
    again = log_leaves.release_leaf("published", await one_release(pool))
    assert json.loads(again)["salt"] != release["salt"]


@pytest.mark.usefixtures("model")
async def test_a_leaf_names_only_upgrade_sources_on_the_cpl_and_logs_again_when_one_is_listed(
    pool: asyncpg.Pool,
) -> None:
    """A submission not yet listed may name another one as its source; listed, it is published with
    that source still pending, and its leaf (read by fir:read in entry bundles and proofs) named a
    version fir:read may not see. The leaf names the sources on the CPL; when the pending one is
    listed, the release is logged again with it."""
    await ok(pool, SUBMIT, input=submission_input("12700005"))
    await ok(pool, SUBMIT, input=submission_input("12700002") | {"upgradableFrom": ["12700005"]})
    await ok(pool, LIST, input=listing_input(2, "12700002"))
    published = [x for x in await leaves(pool) if x["type"] == "release"]
    assert [(x["firmware_version"], x["upgradable_from"]) for x in published] == [("12700002", [])]
    await ok(pool, LIST, input=listing_input(5, "12700005"))
    logged = [
        (x["type"], x["event"], x.get("firmware_version"), x.get("upgradable_from"))
        for x in await leaves(pool)
    ]
    assert logged[-3:] == [
        ("cpl_entry", "listed", "12700005", None),
        ("release", "published", "12700005", []),
        ("release", "amended", "12700002", ["12700005"]),
    ]
    # a listing that names no release's source logs no release again
    await ok(pool, LIST, input=listing_input(9, "12700009"))
    assert [x["type"] for x in (await leaves(pool))[len(logged) :]] == ["cpl_entry"]


async def one_release(pool: asyncpg.Pool) -> Any:
    [row] = await rw.releases_by_ids(Db(pool), [await pool.fetchval("select min(id) from firmware_releases")])
    return row


@pytest.mark.usefixtures("model")
async def test_withdrawing_a_published_release_is_logged_a_submission_is_not(pool: asyncpg.Pool) -> None:
    await ok(pool, LIST, input=listing_input(7, "12700001"))
    published = await ok(pool, SUBMIT, input=submission_input("12700001"))
    hidden = await ok(pool, SUBMIT, input=submission_input("12700002"))
    await ok(pool, WITHDRAW, id=hidden["submitFirmwareRelease"]["id"])
    await ok(pool, WITHDRAW, id=published["submitFirmwareRelease"]["id"])
    events = [(x["type"], x["event"], x.get("firmware_version")) for x in await leaves(pool)]
    assert events == [
        ("cpl_entry", "listed", "12700001"),
        ("release", "published", "12700001"),
        ("release", "withdrawn", "12700001"),
    ]


@pytest.mark.usefixtures("model")
async def test_the_stored_tree_is_the_tree_of_the_leaves(pool: asyncpg.Pool, db: Db) -> None:
    for n in range(1, 6):
        await ok(pool, LIST, input=listing_input(n, f"1270000{n}"))
    raw = [bytes(r["leaf"]) for r in await pool.fetch("select leaf from tlog_leaves order by idx")]
    hashes = [merkle.leaf_hash(x) for x in raw]
    expected = merkle.new_nodes(0, {}, hashes)
    stored = {(r["level"], r["idx"]): bytes(r["hash"]) for r in await pool.fetch("select * from tlog_nodes")}
    assert stored == expected
    size, frontier = await tlog.size_and_frontier(db)  # what the next append builds on
    assert size == 5 and frontier == {n: expected[n] for n in merkle.frontier_nodes(5)}
    result = await transparency.audit(db)
    assert result.tree_size == 5 and result.problems == []
    proof = await transparency.inclusion(db, 3, 5)
    assert proof is not None and merkle.verify_inclusion(3, 5, hashes[3], proof, merkle.root(5, expected))


@pytest.mark.usefixtures("model")
async def test_leaves_are_never_updated_or_deleted(pool: asyncpg.Pool) -> None:
    await ok(pool, LIST, input=listing_input(1, "12700001"))
    for sql in (
        "update tlog_leaves set leaf = 'x'",
        "delete from tlog_leaves",
        "truncate tlog_leaves",
        "update tlog_nodes set hash = hash",
        "delete from tlog_nodes",
    ):
        with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
            await pool.execute(sql)


@pytest.mark.usefixtures("model")
async def test_a_concurrent_burst_lands_whole_in_one_order(pool: asyncpg.Pool, db: Db) -> None:
    await asyncio.gather(*(ok(pool, LIST, input=listing_input(n, f"127000{n:02d}")) for n in range(1, 21)))
    idx = [r["idx"] for r in await pool.fetch("select idx from tlog_leaves order by idx")]
    assert idx == list(range(20))
    assert (await transparency.audit(db)).problems == []


def oversized_contacts() -> list[dict[str, str]]:
    """50 contacts within every field's cap, over 65,535 bytes as a leaf (3-byte characters)."""
    return [
        {"role": "FIRMWARE", "name": "€" * 200, "email": "€" * 120 + "@" + "€" * 120 + ".uk"}
        for _ in range(50)
    ]


@pytest.mark.usefixtures("model")
async def test_a_fact_too_large_for_an_entry_bundle_is_refused_before_anything_is_written(
    pool: asyncpg.Pool,
) -> None:
    contacts = 'mutation($c: [ContactInput!]!) { setContacts(manufacturerId: "106C", contacts: $c) { name } }'
    before = await pool.fetch("select * from contacts order by id")
    result = await execute(SCHEMA, pool, contacts, SECAS, c=oversized_contacts())
    assert result.errors is not None and result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "log leaf of" in result.errors[0].message and "at most 65535" in result.errors[0].message
    assert await leaves(pool) == [] and await pool.fetch("select * from contacts order by id") == before
    await ok(pool, contacts, c=oversized_contacts()[:40])  # 40 fit: the cap is the leaf's size, not a count
    assert [x["type"] for x in await leaves(pool)] == ["contacts"]
