"""auditLog: SECAS only, newest first, keyset pages, filters; a refused write leaves no row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from resolvers.principal import ANONYMOUS, Principal
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, Builder, execute, publisher

SCHEMA = build_schema()
LOG = """query($first: Int, $after: String, $type: String, $id: String, $actor: String,
  $since: DateTime, $until: DateTime) {
  auditLog(first: $first, after: $after, entityType: $type, entityId: $id, actor: $actor, since: $since,
    until: $until) {
    edges { cursor node { id occurredAt actor organisation action entityType entityId before after } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""
UPSERT = """mutation($id: String!, $name: String!) { upsertManufacturer(input: {manufacturerId: $id, name: $name}) {
  name
} }"""


@pytest.fixture
async def history(pool: asyncpg.Pool) -> None:
    """Five changes: three manufacturers created, one renamed, one contacts set by its publisher."""
    for mid, name in (("0001", "One"), ("0002", "Two"), ("0003", "Three"), ("0001", "Uno")):
        result = await execute(SCHEMA, pool, UPSERT, SECAS, id=mid, name=name)
        assert result.errors is None, result.errors
    contacts = await execute(
        SCHEMA,
        pool,
        'mutation { setContacts(manufacturerId: "0002", contacts: [{role: FIRMWARE, name: "Desk"}]) { name } }',
        publisher("0002"),
    )
    assert contacts.errors is None, contacts.errors


async def log(pool: asyncpg.Pool, principal: Principal = SECAS, **variables: Any) -> Any:
    return await execute(SCHEMA, pool, LOG, principal, **variables)


def nodes(result: Any) -> list[dict[str, Any]]:
    assert result.errors is None, result.errors
    return [e["node"] for e in result.data["auditLog"]["edges"]]


async def test_newest_first_in_pages(pool: asyncpg.Pool, history: None) -> None:
    first = await log(pool, first=2)
    page = nodes(first)
    assert [n["action"] for n in page] == ["contacts.set", "manufacturer.upsert"]
    assert page[1]["before"] == {"manufacturer_id": "0001", "name": "One", "website": None}
    assert page[1]["after"]["name"] == "Uno"
    info = first.data["auditLog"]["pageInfo"]
    assert info["hasNextPage"] and not info["hasPreviousPage"]
    second = await log(pool, first=10, after=info["endCursor"])
    assert [n["entityId"] for n in nodes(second)] == ["0003", "0002", "0001"]
    assert not second.data["auditLog"]["pageInfo"]["hasNextPage"]


async def test_filters(pool: asyncpg.Pool, history: None) -> None:
    assert len(nodes(await log(pool, type="Manufacturer", id="0001"))) == 2
    [by_maker] = nodes(await log(pool, actor="maker-0002"))
    assert by_maker["action"] == "contacts.set" and by_maker["organisation"] == "Maker"
    everything = nodes(await log(pool))
    middle = dt.datetime.fromisoformat(everything[2]["occurredAt"])
    assert len(nodes(await log(pool, since=middle.isoformat()))) == 3
    assert len(nodes(await log(pool, until=middle.isoformat()))) == 2


@pytest.mark.parametrize("principal", [ANONYMOUS, SUPPLIER, publisher("0001")])
async def test_admin_only(pool: asyncpg.Pool, history: None, principal: Principal) -> None:
    result = await log(pool, principal)
    assert result.data is None
    [error] = result.errors
    assert error.extensions == {"code": "FORBIDDEN", "field": "auditLog"}


async def test_bad_cursor(pool: asyncpg.Pool) -> None:
    result = await log(pool, after="nonsense")
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_a_refused_write_leaves_no_audit_row(pool: asyncpg.Pool) -> None:
    """The audit row shares the write's transaction: a write refused half-way leaves neither."""
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        await b.entry("106C", "4331", "00AC", "00000001", number=1)
        await b.entry("106C", "4331", "00AC", "00000002", number=2)
    # the model is locked and the entry read before the identity conflict is found
    entry = {
        "number": 1,
        "deviceType": "CHF",
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "00000002",
        "imageHash": "A" * 64,
    }
    result = await execute(
        SCHEMA, pool, "mutation($e: CplEntryInput!) { listCplEntry(input: $e) { number } }", SECAS, e=entry
    )
    assert result.errors[0].extensions["code"] == "CONFLICT"
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from audit_events") == 0
