"""Federation 2: Apollo's composition accepts our SDL; _entities honours the same scope rules."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest
from graphql import ObjectTypeDefinitionNode, get_named_type, is_leaf_type, parse

from resolvers.principal import ANONYMOUS
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, Builder, execute, publisher

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "tests" / "peers"

ENTITIES = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  __typename
  ... on Manufacturer { manufacturerId name contacts { email } }
  ... on CplEntry { number firmwareVersion release { version } }
  ... on DeviceModel { modelId deviceType }
  ... on FirmwareRelease { id version }
} }"""


@pytest.mark.peers
def test_apollo_composition_accepts_the_subgraph() -> None:
    if shutil.which("node") is None or not (PEERS / "node_modules").exists():
        pytest.fail("test peers missing: run `make peers` (needs Node.js)")
    out = subprocess.run(
        ["node", str(PEERS / "compose.mjs"), str(ROOT / "schema.graphql")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = json.loads(out.stdout)
    assert result["ok"], result
    assert "requiresScopes" in result["supergraph"]
    assert '@join__type(graph: FIR, key: "number")' in result["supergraph"]
    key = 'key: "identity { manufacturerId modelId hardwareVersion firmwareVersion }"'
    assert f"@join__type(graph: FIR, {key})" in result["supergraph"]
    assert f"@join__type(graph: METERS, {key}, resolvable: false)" in result["supergraph"]
    assert result["hints"] == []


@pytest.fixture
async def one_release(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        return await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01")


async def test_entities_resolve_with_scope_rules(pool: asyncpg.Pool, one_release: int) -> None:
    reps = [
        {"__typename": "Manufacturer", "manufacturerId": "106c"},
        {"__typename": "DeviceModel", "manufacturerId": "106C", "modelId": "4331"},
        {
            "__typename": "CplEntry",
            "manufacturerId": "106C",
            "modelId": "4331",
            "hardwareVersion": "00AC",
            "firmwareVersion": "00000001",
        },
        {"__typename": "FirmwareRelease", "id": str(one_release)},
    ]
    schema = build_schema()
    # strawberry pops __typename from the representations it is given
    reader = await execute(schema, pool, ENTITIES, SUPPLIER, reps=copy.deepcopy(reps))
    assert reader.errors is None, reader.errors
    m, model, entry, release = reader.data["_entities"]
    assert m["contacts"] and model["deviceType"] == "CHF"
    assert entry["release"]["version"] == "00000001" and release["version"] == "00000001"

    anon = await execute(schema, pool, ENTITIES, ANONYMOUS, reps=copy.deepcopy(reps))
    m, model, entry, release = anon.data["_entities"]
    assert m["name"] and m["contacts"] is None and entry["release"] is None and release is None
    codes = {(tuple(e.path), e.extensions["code"]) for e in anon.errors}
    assert (("_entities", 0, "contacts"), "FORBIDDEN") in codes
    assert (("_entities", 3), "FORBIDDEN") in codes


STATUS_FIELDS = """identity { manufacturerId modelId hardwareVersion firmwareVersion }
  onCpl cplEntry { number status } model { name } manufacturer { name }
  current { version } latest { version } isLatest upgradePath { version } lineage { version }
  contacts { email }"""
METERS = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on DeviceFirmwareStatus { %s } } }"
DEVICE = "query($i: DeviceIdentityInput!) { device(identity: $i) { %s } }"


def meter(fw: str, mfr: str = "106C", hw: str = "00AC") -> dict[str, object]:
    identity = {"manufacturerId": mfr, "modelId": "4331", "hardwareVersion": hw, "firmwareVersion": fw}
    return {"__typename": "DeviceFirmwareStatus", "identity": identity}


@pytest.fixture
async def path_model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002")


async def test_device_status_entity_equals_device_query(pool: asyncpg.Pool, path_model: None) -> None:
    schema = build_schema()
    reps = [meter("00000001"), meter(" 00000002 ", mfr="106c"), meter("0000FFFF")]
    found = await execute(schema, pool, METERS % STATUS_FIELDS, SUPPLIER, reps=reps)
    assert found.errors is None, found.errors
    for rep, entity in zip(reps, found.data["_entities"], strict=True):
        direct = await execute(schema, pool, DEVICE % STATUS_FIELDS, SUPPLIER, i=rep["identity"])
        assert direct.errors is None and entity == direct.data["device"]
    first, second, off = found.data["_entities"]
    assert first["upgradePath"] == [{"version": "00000002"}] and second["isLatest"] is True
    assert second["identity"]["manufacturerId"] == "106C"  # normalised like device(identity:)
    assert off["onCpl"] is False and off["cplEntry"] is None


async def test_malformed_identity_fails_only_its_representation(pool: asyncpg.Pool, path_model: None) -> None:
    reps = [meter("00000001"), meter("0000000Z"), {"__typename": "DeviceFirmwareStatus", "identity": {}}]
    found = await execute(build_schema(), pool, METERS % "onCpl isLatest", SUPPLIER, reps=reps)
    assert found.data["_entities"] == [{"onCpl": True, "isLatest": False}, None, None]
    errors = {tuple(e.path): (e.extensions["code"], e.extensions["field"]) for e in found.errors}
    assert errors == {
        ("_entities", 1): ("BAD_USER_INPUT", "identity.firmwareVersion"),
        ("_entities", 2): ("BAD_USER_INPUT", "representations[2].identity"),  # not the key's shape
    }


CATALOGUE = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Manufacturer { manufacturerId } ... on DeviceModel { modelId } ... on CplEntry { number } } }"""


async def test_a_malformed_catalogue_key_fails_its_representation_as_the_root_fields_do(
    pool: asyncpg.Pool, path_model: None
) -> None:
    """It was a silent null: "no such manufacturer" to a graph whose data was malformed, where the
    root field manufacturer(manufacturerId: "ZZZZ") answers BAD_USER_INPUT."""
    identity = {"manufacturerId": "106C", "modelId": "4331", "hardwareVersion": "00AC"}
    reps = [
        {"__typename": "Manufacturer", "manufacturerId": " 106c "},
        {"__typename": "Manufacturer", "manufacturerId": "ZZZZ"},
        {"__typename": "DeviceModel", "manufacturerId": "106C", "modelId": "43310"},
        {"__typename": "CplEntry", **identity, "firmwareVersion": "bogus"},
        {"__typename": "CplEntry", **identity, "firmwareVersion": "0x00000001"},
        {"__typename": "Manufacturer", "manufacturerId": "10\ufb00"},  # 'ﬀ'.upper() is 'FF'
    ]
    found = await execute(build_schema(), pool, CATALOGUE, SUPPLIER, reps=reps)
    assert found.data["_entities"] == [{"manufacturerId": "106C"}, None, None, None, {"number": 1001}, None]
    errors = {tuple(e.path): (e.extensions["code"], e.extensions["field"]) for e in found.errors}
    assert errors == {
        ("_entities", 1): ("BAD_USER_INPUT", "manufacturerId"),
        ("_entities", 2): ("BAD_USER_INPUT", "modelId"),
        ("_entities", 3): ("BAD_USER_INPUT", "firmwareVersion"),
        ("_entities", 5): ("BAD_USER_INPUT", "manufacturerId"),
    }
    root = await execute(build_schema(), pool, '{ manufacturer(manufacturerId: "ZZZZ") { name } }', SUPPLIER)
    assert root.errors[0].message == found.errors[0].message


async def test_device_status_entity_anonymous_sees_cpl_facts_only(
    pool: asyncpg.Pool, path_model: None
) -> None:
    fields = "onCpl cplEntry { number } manufacturer { name } isLatest latest { version } contacts { email }"
    found = await execute(build_schema(), pool, METERS % fields, ANONYMOUS, reps=[meter("00000001")])
    [entity] = found.data["_entities"]
    assert entity["onCpl"] is True and entity["cplEntry"]["number"] and entity["manufacturer"]["name"]
    assert (entity["isLatest"], entity["latest"], entity["contacts"]) == (None, None, None)
    codes = {(tuple(e.path), e.extensions["code"]) for e in found.errors}
    assert codes == {(("_entities", 0, f), "FORBIDDEN") for f in ("isLatest", "latest", "contacts")}


def guarded_status_fields() -> list[str]:
    """Read from the SDL: whatever declares the rule, the directive it prints names the guarded fields."""
    [status] = [
        d
        for d in parse(build_schema().as_str()).definitions
        if isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "DeviceFirmwareStatus"
    ]
    return sorted(
        f.name.value
        for f in status.fields or ()
        if any(d.name.value == "requiresScopes" for d in f.directives or ())
    )


@pytest.mark.parametrize("field", guarded_status_fields())
async def test_every_guarded_status_field_is_guarded_through_entities(
    pool: asyncpg.Pool, path_model: None, field: str
) -> None:
    """Derived from the SDL: a field guarded later is checked here without editing this test."""
    schema = build_schema()
    named = get_named_type(schema._schema.type_map["DeviceFirmwareStatus"].fields[field].type)  # type: ignore[attr-defined]
    selection = field if is_leaf_type(named) else f"{field} {{ __typename }}"
    for principal, allowed in (
        (ANONYMOUS, False),
        (SUPPLIER, True),
        (publisher("106C"), True),  # fir:publish alone: its own manufacturer's FIR records only
        (publisher("1063"), False),
        (SECAS, True),
    ):
        found = await execute(schema, pool, METERS % selection, principal, reps=[meter("00000001")])
        codes = [e.extensions["code"] for e in found.errors or []]
        assert codes == ([] if allowed else ["FORBIDDEN"]), (field, principal.subject, codes)
        assert found.data["_entities"][0][field] not in (None, []) or not allowed, (field, principal.subject)
