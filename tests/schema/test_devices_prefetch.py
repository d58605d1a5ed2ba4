"""A device query's one statement (resolvers.devices.Prefetch): the same answers as field-by-field loading."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from resolvers import devices as rules
from resolvers.principal import ANONYMOUS, Principal
from schema import devices as device_types
from schema import query as query_type
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, Builder, execute, publisher

RELEASE = """fragment Release on FirmwareRelease {
  id version status releaseDate cplEntryNumber cplEntry { number status } upgradableFromVersions
  upgradableFrom { version } upgradesTo { version } manufacturer { name contacts { email } }
}"""
DEVICE = (
    """query($id: DeviceIdentityInput!) { device(identity: $id) {
  onCpl isLatest cplEntry { number status model { name cplEntries { number } } }
  manufacturer { name contacts { email } } contacts { role name email phone }
  current { ...Release revisions { revision upgradableFromVersions } }
  latest { ...Release } upgradePath { ...Release } lineage { ...Release }
} }"""
    + RELEASE
)
ENTITIES = (
    """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on DeviceFirmwareStatus {
  onCpl contacts { email } lineage { ...Release } upgradePath { version cplEntry { status } }
} } }"""
    + RELEASE
)
FLEET = (
    """query($devices: [FleetDeviceInput!]!) { fleetStatus(devices: $devices) {
  total upToDate groups { count status { onCpl contacts { email } lineage { ...Release } } }
} }"""
    + RELEASE
)
# what the equivalent benchmark query (tests/perf/peer_query.py) selects: answered by one statement
EQUIVALENT = """query($id: DeviceIdentityInput!) { device(identity: $id) {
  cplEntry { number status deviceType imageHash } model { manufacturerId modelId name deviceType }
  manufacturer { manufacturerId name website } contacts { role name email phone }
  lineage { id version status releaseDate cplEntryNumber cplEntry { status } upgradableFromVersions }
} }"""
PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "supplier": SUPPLIER,
    "own publisher": publisher("1001"),
    "other publisher": publisher("1002"),
    "secas": SECAS,
}


def identity(fw: str, model: str = "0001") -> dict[str, str]:
    return {"manufacturerId": "1001", "modelId": model, "hardwareVersion": "0001", "firmwareVersion": fw}


@pytest.fixture
async def catalogue(pool: asyncpg.Pool) -> None:
    """Every kind of release a source may name: published, withdrawn, a draft, a CPL-only version,
    a version nobody knows; and another manufacturer's draft of the same numbers."""
    async with pool.acquire() as conn:
        b = Builder(conn)
        for mid in ("1001", "1002"):
            await b.manufacturer(mid)
            await b.model(mid, "0001")
        await b.release("1001", "0001", "0001", "00000001", date="2021-01-01")
        await b.entry("1001", "0001", "0001", "00000009")  # on the CPL, no release
        await b.release(
            "1001", "0001", "0001", "0000000A", date="2021-06-01", status="DRAFT", cpl_status=None
        )
        await b.release(
            "1001", "0001", "0001", "00000002", date="2022-01-01",
            upgradable_from=("00000001", "00000009", "0000000A", "0000000B"),
        )  # fmt: skip
        await b.release(
            "1001",
            "0001",
            "0001",
            "00000003",
            date="2023-01-01",
            status="WITHDRAWN",
            upgradable_from=("00000002",),
        )
        await b.release(
            "1001", "0001", "0001", "00000004", date="2024-01-01", upgradable_from=("00000002", "00000003")
        )
        await b.release(
            "1002", "0001", "0001", "0000000C", date="2021-01-01", status="DRAFT", cpl_status=None
        )


def without_prefetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every nested field loads its own rows, as before the one-statement plan."""
    monkeypatch.setattr(device_types, "prefetch_of", lambda info, path=(): rules.NOTHING)
    monkeypatch.setattr(query_type, "prefetch_of", lambda info, path=(): rules.NOTHING)


def answer(result: Any) -> tuple[Any, list[Any]]:
    return result.data, sorted((e.message, tuple(e.path or ()), e.extensions) for e in result.errors or ())


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "device outdated": (DEVICE, {"id": identity("00000002")}),
    "device withdrawn": (DEVICE, {"id": identity("00000003")}),
    "device draft": (DEVICE, {"id": identity("0000000A")}),
    "device unknown model": (DEVICE, {"id": identity("00000001", model="0009")}),
    "entities": (
        ENTITIES,
        {
            "reps": [
                {"__typename": "DeviceFirmwareStatus", "identity": identity(fw)}
                for fw in ("00000001", "0000000C")
            ]
        },
    ),
    "fleet": (FLEET, {"devices": [identity("00000001"), identity("00000004"), identity("00000001")]}),
}


@pytest.mark.parametrize("who", sorted(PRINCIPALS))
@pytest.mark.parametrize("case", sorted(CASES))
async def test_nested_answers_equal_field_by_field_loading(
    pool: asyncpg.Pool, catalogue: None, monkeypatch: pytest.MonkeyPatch, case: str, who: str
) -> None:
    query, variables = CASES[case]
    principal: Principal = PRINCIPALS[who]
    schema = build_schema()
    planned = await execute(schema, pool, query, principal, **variables)
    without_prefetch(monkeypatch)
    loaded = await execute(schema, pool, query, principal, **variables)
    assert answer(planned) == answer(loaded)
    fewer = planned.context.loaders.db.log.count, loaded.context.loaders.db.log.count
    assert fewer[0] < fewer[1] if who in ("supplier", "secas") else fewer[0] <= fewer[1]


async def test_visibility_of_upgrade_sources_from_the_prefetched_rows(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    schema = build_schema()
    sources = {}
    for who in ("supplier", "own publisher", "other publisher", "secas"):
        result = await execute(schema, pool, EQUIVALENT, PRINCIPALS[who], id=identity("00000004"))
        assert (result.errors is None) is (who != "other publisher"), result.errors
        lineage = result.data["device"]["lineage"]
        sources[who] = [r["upgradableFromVersions"] for r in lineage if r["version"] == "00000002"]
    # the draft 0000000A is its owner's and SECAS's; the CPL-only 00000009 everyone's; 0000000B nobody's but SECAS
    assert sources["supplier"] == [["00000001", "00000009"]]
    assert sources["own publisher"] == [["00000001", "00000009", "0000000A"]]
    assert sources["other publisher"] == []  # it sees no FIR records of 1001
    assert sources["secas"] == [["00000001", "00000009", "0000000A", "0000000B"]]


async def test_the_equivalent_query_is_one_statement(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await execute(build_schema(), pool, EQUIVALENT, SUPPLIER, id=identity("00000004"))
    assert result.errors is None, result.errors
    assert len(result.data["device"]["lineage"]) == 3 and result.data["device"]["contacts"]
    # identity rows, releases with their CPL entries, contacts and the CPL's versions of the model: was 5
    # (+ contacts, + CplEntryByNumber for the releases, + the CPL entries behind upgradableFromVersions)
    assert result.context.loaders.db.log.count == 1, result.context.loaders.db.log.statements


async def test_a_selection_without_nested_fields_reads_no_optional_part(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    query = "query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl lineage { version } } }"
    result = await execute(build_schema(), pool, query, SUPPLIER, id=identity("00000004"))
    assert result.errors is None, result.errors
    [statement] = result.context.loaders.db.log.statements
    assert "from contacts" not in statement and "select 3" not in statement
