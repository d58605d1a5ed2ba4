"""SECAS administers: upsertManufacturer, setContacts, listCplEntry, removeCplEntry; access, history, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from resolvers.principal import ANONYMOUS, Principal
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, Builder, audit_rows, error_of, execute, image_hash, publisher

SCHEMA = build_schema()
MAKER_A = publisher("106C")
MAKER_B = publisher("1063")

UPSERT = """mutation($input: ManufacturerInput!) { upsertManufacturer(input: $input) { manufacturerId name website } }"""
CONTACTS = """mutation($m: String!, $c: [ContactInput!]!) { setContacts(manufacturerId: $m, contacts: $c) {
  manufacturerId contacts { role name email phone }
} }"""
LIST = """mutation($input: CplEntryInput!) { listCplEntry(input: $input) {
  number status deviceType listedOn removedOn model { name deviceType } manufacturer { name }
} }"""
REMOVE = """mutation($n: Int!, $r: String!) { removeCplEntry(number: $n, reason: $r) { number status removedOn } }"""
WRITERS = [(ANONYMOUS, "UNAUTHENTICATED"), (SUPPLIER, "FORBIDDEN"), (MAKER_A, "FORBIDDEN")]


@pytest.fixture
async def catalogue(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        await b.manufacturer("1063")
        await b.entry("106C", "4331", "00AC", "00000001", number=1)


def entry_input(number: int, fw: str, **override: Any) -> dict[str, Any]:
    return {
        "number": number,
        "deviceType": "ESME",
        "manufacturerId": "1a2b",
        "modelId": "0001",
        "hardwareVersion": "0100",
        "firmwareVersion": fw,
        "imageHash": image_hash(fw),
        "smetsChtsVersion": "SMETS V2.0",
        "gbcsVersion": "GBCS Version 3.2",
        "cplVersion": "Version 2.100",
        "listedOn": "2024-06-01",
        "modelName": "Volta E2",
    } | override


# --- upsertManufacturer ---------------------------------------------------------------------------


async def test_upsert_creates_renames_and_audits(pool: asyncpg.Pool, catalogue: None) -> None:
    made = await execute(SCHEMA, pool, UPSERT, SECAS, input={"manufacturerId": "abcd", "name": " Volta "})
    assert made.data["upsertManufacturer"] == {"manufacturerId": "ABCD", "name": "Volta", "website": None}
    renamed = await execute(
        SCHEMA,
        pool,
        UPSERT,
        SECAS,
        input={"manufacturerId": "ABCD", "name": "Volta", "website": "https://v.example"},
    )
    assert renamed.data["upsertManufacturer"]["website"] == "https://v.example"
    again = await execute(
        SCHEMA,
        pool,
        UPSERT,
        SECAS,
        input={"manufacturerId": "ABCD", "name": "Volta", "website": "https://v.example"},
    )
    assert again.errors is None
    rows = [r for r in await audit_rows(pool) if r["action"] == "manufacturer.upsert"]
    assert len(rows) == 2  # the unchanged third call wrote nothing
    assert rows[0]["before"] is None and rows[0]["after"]["name"] == "Volta"
    assert rows[1]["before"]["website"] is None and rows[1]["after"]["website"] == "https://v.example"
    assert (rows[1]["actor"], rows[1]["organisation"], rows[1]["entity_id"]) == ("secas-1", "SECAS", "ABCD")


@pytest.mark.parametrize(("principal", "code"), [*WRITERS, (MAKER_B, "FORBIDDEN")])
async def test_upsert_is_admin_only(
    pool: asyncpg.Pool, catalogue: None, principal: Principal, code: str
) -> None:
    result = await execute(
        SCHEMA, pool, UPSERT, principal, input={"manufacturerId": "106C", "name": "Mine now"}
    )
    assert error_of(result)["code"] == code
    assert await audit_rows(pool) == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"manufacturerId": "ABC", "name": "x"}, "input.manufacturerId"),
        ({"manufacturerId": "ABCD", "name": "  "}, "input.name"),
        ({"manufacturerId": "ABCD", "name": "x", "website": "ftp://x"}, "input.website"),
    ],
)
async def test_upsert_validation(pool: asyncpg.Pool, values: dict[str, Any], field: str) -> None:
    result = await execute(SCHEMA, pool, UPSERT, SECAS, input=values)
    assert error_of(result) == {"code": "BAD_USER_INPUT", "field": field}


# --- setContacts ----------------------------------------------------------------------------------

NEW_CONTACTS = [
    {"role": "SECURITY", "name": "PSIRT", "email": "psirt@106c.example.com"},
    {"role": "SUPPORT", "phone": "+44 20 7946 0001"},
]


@pytest.mark.parametrize("principal", [SECAS, MAKER_A])
async def test_contacts_are_replaced_and_old_ones_retired(
    pool: asyncpg.Pool, catalogue: None, principal: Principal
) -> None:
    result = await execute(SCHEMA, pool, CONTACTS, principal, m="106c", c=NEW_CONTACTS)
    assert result.errors is None, result.errors
    contacts = result.data["setContacts"]["contacts"]
    assert [c["role"] for c in contacts] == ["SECURITY", "SUPPORT"]
    assert contacts[1] == {"role": "SUPPORT", "name": None, "email": None, "phone": "+44 20 7946 0001"}
    async with pool.acquire() as conn:
        retired = await conn.fetch(
            "select role::text, retired_at from contacts where manufacturer_id = '106C'"
        )
    assert sorted((r["role"], r["retired_at"] is not None) for r in retired) == [
        ("FIRMWARE", True),
        ("SECURITY", False),
        ("SUPPORT", False),
    ]
    [row] = await audit_rows(pool)
    assert row["action"] == "contacts.set" and row["before"][0]["role"] == "FIRMWARE"
    assert [c["role"] for c in row["after"]] == ["SECURITY", "SUPPORT"]


@pytest.mark.parametrize(("principal", "code"), [*WRITERS[:2], (MAKER_B, "FORBIDDEN")])
async def test_contacts_access(pool: asyncpg.Pool, catalogue: None, principal: Principal, code: str) -> None:
    result = await execute(SCHEMA, pool, CONTACTS, principal, m="106C", c=NEW_CONTACTS)
    assert error_of(result)["code"] == code
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from contacts where retired_at is not null") == 0


@pytest.mark.parametrize(
    ("contacts", "field"),
    [
        ([{"role": "SUPPORT", "email": "not-an-email"}], "contacts[0].email"),
        ([{"role": "SUPPORT", "name": "x"}, {"role": "SUPPORT", "phone": "call me"}], "contacts[1].phone"),
        ([{"role": "SUPPORT", "name": " "}], "contacts[0]"),
        ([{"role": "SUPPORT", "name": "Desk\u202egnp.exe"}], "contacts[0].name"),
    ],
)
async def test_contacts_validation(
    pool: asyncpg.Pool, catalogue: None, contacts: list[dict[str, str]], field: str
) -> None:
    result = await execute(SCHEMA, pool, CONTACTS, SECAS, m="106C", c=contacts)
    assert error_of(result) == {"code": "BAD_USER_INPUT", "field": field}
    assert await audit_rows(pool) == []


async def test_contacts_of_unknown_manufacturer(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await execute(SCHEMA, pool, CONTACTS, SECAS, m="FFFF", c=NEW_CONTACTS)
    assert error_of(result) == {"code": "NOT_FOUND", "field": "manufacturerId"}


# --- listCplEntry / removeCplEntry ----------------------------------------------------------------


async def test_listing_creates_manufacturer_and_model(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await execute(SCHEMA, pool, LIST, SECAS, input=entry_input(50, "00000010"))
    assert result.errors is None, result.errors
    entry = result.data["listCplEntry"]
    assert entry["status"] == "CURRENT" and entry["listedOn"] == "2024-06-01" and entry["removedOn"] is None
    assert entry["model"] == {"name": "Volta E2", "deviceType": "ESME"}
    assert entry["manufacturer"] == {"name": "Manufacturer 1A2B"}
    actions = [r["action"] for r in await audit_rows(pool)]
    assert actions == ["manufacturer.create", "deviceModel.create", "cplEntry.list"]
    again = await execute(SCHEMA, pool, LIST, SECAS, input=entry_input(50, "00000010"))
    assert again.data == result.data
    assert len(await audit_rows(pool)) == 3  # an identical listing is a no-op


async def test_listing_conflicts_write_nothing(pool: asyncpg.Pool, catalogue: None) -> None:
    other_identity = entry_input(1, "00000010")
    assert error_of(await execute(SCHEMA, pool, LIST, SECAS, input=other_identity)) == {
        "code": "CONFLICT",
        "field": "input.number",
    }
    same_identity = entry_input(
        77,
        "00000001",
        manufacturerId="106C",
        modelId="4331",
        hardwareVersion="00AC",
        imageHash=image_hash("x"),
    )
    assert error_of(await execute(SCHEMA, pool, LIST, SECAS, input=same_identity))["code"] == "CONFLICT"
    assert await audit_rows(pool) == []
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from manufacturers") == 2


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"number": 0}, "input.number"),
        ({"modelId": "1"}, "input.modelId"),
        ({"imageHash": "12"}, "input.imageHash"),
    ],
)
async def test_listing_validation(pool: asyncpg.Pool, override: dict[str, Any], field: str) -> None:
    result = await execute(SCHEMA, pool, LIST, SECAS, input=entry_input(5, "00000010") | override)
    assert error_of(result) == {"code": "BAD_USER_INPUT", "field": field}


@pytest.mark.parametrize(("principal", "code"), [*WRITERS, (MAKER_B, "FORBIDDEN")])
async def test_cpl_writes_are_admin_only(
    pool: asyncpg.Pool, catalogue: None, principal: Principal, code: str
) -> None:
    listed = await execute(SCHEMA, pool, LIST, principal, input=entry_input(50, "00000010"))
    assert error_of(listed)["code"] == code
    removed = await execute(SCHEMA, pool, REMOVE, principal, n=1, r="superseded")
    assert error_of(removed)["code"] == code
    assert await audit_rows(pool) == []


async def test_removal_marks_and_keeps_the_entry(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await execute(SCHEMA, pool, REMOVE, SECAS, n=1, r="security defect")
    assert result.data["removeCplEntry"] == {
        "number": 1,
        "status": "REMOVED",
        "removedOn": dt.date.today().isoformat(),
    }
    again = await execute(SCHEMA, pool, REMOVE, SECAS, n=1, r="again")
    assert again.data == result.data
    [row] = await audit_rows(pool)
    assert row["action"] == "cplEntry.remove" and row["after"]["reason"] == "security defect"
    assert row["before"]["status"] == "CURRENT"
    missing = await execute(SCHEMA, pool, REMOVE, SECAS, n=999, r="x")
    assert error_of(missing) == {"code": "NOT_FOUND", "field": "number"}
