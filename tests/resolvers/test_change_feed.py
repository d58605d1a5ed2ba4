"""The durable change feed: written by the unit of work, read by cursor, filtered per caller, never skipping."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from loaders import changes as feed
from loaders.audit import Actor
from loaders.db import Db
from loaders.vocabulary import AuditAction, EntityType
from resolvers import change_feed
from resolvers import unit_of_work as uow
from resolvers.principal import Principal
from resolvers.unit_of_work import Change, unit_of_work
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, Builder, execute, publisher
from tests.resolvers.test_unit_of_work import LIST, LISTINGS, SUBMISSION, SUBMIT

SCHEMA = build_schema()
CHANGES = """query($after: String, $first: Int, $m: [String!], $k: [ChangeKind!]) {
  changes(after: $after, first: $first, manufacturerIds: $m, kinds: $k) {
    edges { cursor node { kind manufacturerId releaseId cplEntryNumber release { status } cplEntry { number } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
WITHDRAW = """mutation($id: ID!) { withdrawFirmwareRelease(id: $id, reason: "bricks meters") { status } }"""
CONTACTS = """mutation { setContacts(manufacturerId: "106C", contacts: [{role: FIRMWARE, name: "Desk"}]) { name } }"""
REMOVE = """mutation { removeCplEntry(number: 1, reason: "Withdrawn by its maker") { status } }"""
AMEND = """mutation($id: ID!) { amendFirmwareRelease(id: $id, input: {releaseNotes: "Now with notes."}) { id } }"""


async def run(pool: asyncpg.Pool, query: str, who: Any, **variables: Any) -> Any:
    result = await execute(SCHEMA, pool, query, who, **variables)
    assert result.errors is None, result.errors
    return result.data


async def kinds_seen(pool: asyncpg.Pool, who: Any, **variables: Any) -> list[str]:
    data = await run(pool, CHANGES, who, **variables)
    return [e["node"]["kind"] for e in data["changes"]["edges"]]


@pytest.fixture
async def history(pool: asyncpg.Pool) -> str:
    """Entry 1 listed, its release published (at once), contacts changed, the release withdrawn, entry 1 removed."""
    async with pool.acquire() as conn:
        await Builder(conn).manufacturer("106C")
        await Builder(conn).model("106C", "4331", "CHF")
    await run(pool, LIST, SECAS, input=LISTINGS[1])
    release_id: str = (await run(pool, SUBMIT, publisher("106C"), input=SUBMISSION))["submitFirmwareRelease"][
        "id"
    ]
    await run(pool, CONTACTS, publisher("106C"))
    await run(pool, WITHDRAW, publisher("106C"), id=release_id)
    await run(pool, REMOVE, SECAS)
    return release_id


async def test_every_change_is_an_event_in_commit_order(pool: asyncpg.Pool, history: str) -> None:
    data = await run(pool, CHANGES, SUPPLIER)
    nodes = [e["node"] for e in data["changes"]["edges"]]
    assert [n["kind"] for n in nodes] == [
        "CPL_ENTRY_LISTED",
        "RELEASE_PUBLISHED",
        "CONTACTS_CHANGED",
        "RELEASE_WITHDRAWN",
        "CPL_ENTRY_REMOVED",
    ]
    assert nodes[0]["cplEntry"] == {"number": 1} and nodes[0]["releaseId"] is None
    assert nodes[1]["releaseId"] == history and nodes[1]["release"] == {"status": "WITHDRAWN"}
    assert {n["manufacturerId"] for n in nodes} == {"106C"}


async def test_a_stored_cursor_resumes_just_after_it(pool: asyncpg.Pool, history: str) -> None:
    first = (await run(pool, CHANGES, SECAS, first=1))["changes"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await run(pool, CHANGES, SECAS, after=first["pageInfo"]["endCursor"]))["changes"]
    assert rest["edges"][0]["node"]["kind"] == "RELEASE_PUBLISHED"
    assert len(rest["edges"]) == 4 and rest["pageInfo"]["hasNextPage"] is False
    # nothing new: an empty page, and the client keeps its cursor
    empty = (await run(pool, CHANGES, SECAS, after=rest["pageInfo"]["endCursor"]))["changes"]
    assert empty == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


async def test_filters_by_manufacturer_and_kind(pool: asyncpg.Pool, history: str) -> None:
    assert await kinds_seen(pool, SECAS, k=["RELEASE_WITHDRAWN", "CPL_ENTRY_LISTED"]) == [
        "CPL_ENTRY_LISTED",
        "RELEASE_WITHDRAWN",
    ]
    assert await kinds_seen(pool, SECAS, m=["1063"]) == []
    assert len(await kinds_seen(pool, SECAS, m=["106C"])) == 5


async def test_each_event_is_as_visible_as_its_record(pool: asyncpg.Pool, history: str) -> None:
    # a publisher without fir:read sees the CPL and its own manufacturer's FIR only
    assert await kinds_seen(pool, publisher("0002")) == ["CPL_ENTRY_LISTED", "CPL_ENTRY_REMOVED"]
    assert len(await kinds_seen(pool, publisher("106C"))) == 5
    anonymous = await execute(SCHEMA, pool, CHANGES, Principal())
    assert anonymous.data is None and anonymous.errors[0].extensions["code"] == "FORBIDDEN"


async def test_an_amendment_before_publication_is_its_owners(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).manufacturer("106C")
        await Builder(conn).model("106C", "4331", "CHF")
    waiting = (await run(pool, SUBMIT, publisher("106C"), input=SUBMISSION))["submitFirmwareRelease"]
    await run(pool, AMEND, publisher("106C"), id=waiting["id"])
    assert await kinds_seen(pool, publisher("106C")) == ["RELEASE_AMENDED"]
    assert await kinds_seen(pool, SECAS) == ["RELEASE_AMENDED"]
    assert await kinds_seen(pool, SUPPLIER) == []


async def test_a_cursor_from_another_list_is_refused(pool: asyncpg.Pool) -> None:
    result = await execute(SCHEMA, pool, CHANGES, SECAS, after="bm90IGEgY3Vyc29y")
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


# --- the classic trap: a position taken before commit ----------------------------------------------

WRITERS = 6
CHANGES_PER_WRITER = 15


async def slow_commit(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
    """A consumer after the feed's: the position is taken, the commit comes a moment later."""
    await asyncio.sleep(random.uniform(0, 0.02))


async def test_a_polling_reader_never_skips_an_event(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).manufacturer("106C")
    monkeypatch.setattr(uow, "CONSUMERS", (change_feed.record_changes, slow_commit))
    db, who = Db(pool), Actor("writer", None)
    everything = change_feed.audience_of(SECAS)
    done = asyncio.Event()

    async def writer() -> None:
        for _ in range(CHANGES_PER_WRITER):
            async with unit_of_work(db, who) as work:
                work.record(Change(AuditAction.CONTACTS_SET, EntityType.MANUFACTURER, "106C", None, []))

    async def reader() -> tuple[list[int], int]:
        seen: list[int] = []
        polls_with_news = 0
        while True:
            finished = done.is_set()  # read before the poll: the last poll sees every commit
            page = await feed.page(
                db, after=seen[-1] if seen else 0, limit=1000, who=everything, where=feed.FeedFilter()
            )
            seen += [r.position for r in page]
            polls_with_news += bool(page)
            if finished:
                return seen, polls_with_news
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    done.set()
    seen, polls_with_news = await reading
    total = WRITERS * CHANGES_PER_WRITER
    assert seen == list(range(1, total + 1))  # every event, once, in order, positions without holes
    assert polls_with_news > WRITERS  # the reader really read while writers were committing


async def test_an_ordinary_update_of_an_entry_is_an_event_and_a_repeat_is_not(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).manufacturer("106C")
        await Builder(conn).model("106C", "4331", "CHF")
    await run(pool, LIST, SECAS, input=LISTINGS[1])
    await run(pool, LIST, SECAS, input=LISTINGS[1])  # stated again, unchanged: no event
    await run(pool, LIST, SECAS, input={**LISTINGS[1], "gbcsVersion": "GBCS Version 2.0"})
    data = await run(pool, CHANGES, publisher("0002"))  # CPL events are public
    nodes = [e["node"] for e in data["changes"]["edges"]]
    assert [(n["kind"], n["cplEntryNumber"]) for n in nodes] == [
        ("CPL_ENTRY_LISTED", 1),
        ("CPL_ENTRY_UPDATED", 1),
    ]
    assert await kinds_seen(pool, SECAS, k=["CPL_ENTRY_UPDATED"]) == ["CPL_ENTRY_UPDATED"]
