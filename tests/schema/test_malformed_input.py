"""Malformed input is the caller's error, with a stable code and field: never INTERNAL, never echoed whole."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
import pytest

from resolvers.context import InputCapsByPrincipal
from resolvers.principal import ANONYMOUS
from schema.input_limits import Screen, variable_problem
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, execute

SCHEMA = build_schema()
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
IDENTITY_REP = {"__typename": "Manufacturer", "manufacturerId": "106C"}
IDENTITY = {
    "manufacturerId": "106C",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000001",
}


def cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def extensions(result: Any) -> list[dict[str, Any]]:
    return [e.extensions for e in result.errors or ()]


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("cplEntries", "cpl:99999999999"),  # overflows int32
        ("cplEntries", "cpl:\u0661\u0662"),  # Arabic-Indic digits: str.isdigit() and int() accept them
        ("cplEntries", "cpl:1\x00"),
        ("cplEntries", "cpl:-1"),
        ("auditLog", "audit:99999999999999999999"),  # overflows bigint
        ("auditLog", "audit:\u0967"),  # Devanagari one
        ("manufacturers", "manufacturer:10\x006C"),
        ("deviceModels", "model:106C/\u00e9"),
        ("manufacturers", "not-base64-\u0661"),
    ],
)
async def test_cursors_that_are_not_ours(seeded: asyncpg.Pool, field: str, key: str) -> None:
    query = f"query($a: String) {{ {field}(after: $a) {{ edges {{ cursor }} }} }}"
    result = await execute(SCHEMA, seeded, query, SECAS, a=cursor(key) if ":" in key else key)
    assert extensions(result) == [{"code": "BAD_USER_INPUT", "field": "after"}]


@pytest.mark.parametrize("release_id", ["\u0661", "99999999999999999999", "1\x00", "-1", "1e3", ""])
async def test_ids_that_are_not_ids_find_nothing(seeded: asyncpg.Pool, release_id: str) -> None:
    result = await execute(
        SCHEMA, seeded, "query($id: ID!) { firmwareRelease(id: $id) { id } }", SUPPLIER, id=release_id
    )
    assert result.data == {"firmwareRelease": None} or extensions(result)[0]["code"] == "BAD_USER_INPUT"
    assert "INTERNAL" not in {e["code"] for e in extensions(result)}


async def test_nul_in_a_literal_is_refused_in_validation_naming_the_argument(seeded: asyncpg.Pool) -> None:
    query = '{ device(identity: {manufacturerId: "106C", modelId: "43\\u000031", hardwareVersion: "00AC", firmwareVersion: "00000001"}) { onCpl } }'
    result = await execute(SCHEMA, seeded, query, SUPPLIER)
    assert result.data is None
    assert extensions(result) == [{"code": "BAD_USER_INPUT", "field": "identity.modelId"}]


async def test_nul_in_a_nested_variable_is_refused_naming_its_path(seeded: asyncpg.Pool) -> None:
    query = "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total } }"
    devices = [IDENTITY, {**IDENTITY, "ref": "meter\x00"}]
    result = await execute(SCHEMA, seeded, query, SUPPLIER, d=devices)
    assert result.data is None
    assert extensions(result) == [{"code": "BAD_USER_INPUT", "field": "d[1].ref"}]


async def test_nul_in_a_mutation_input_writes_nothing(seeded: asyncpg.Pool) -> None:
    query = "mutation($r: String!) { removeCplEntry(number: 1, reason: $r) { number } }"
    result = await execute(SCHEMA, seeded, query, SECAS, r="typo\x00")
    assert extensions(result) == [{"code": "BAD_USER_INPUT", "field": "r"}]


async def test_huge_values_are_never_echoed(seeded: asyncpg.Pool) -> None:
    huge = "Z" * 60_000
    result = await execute(
        SCHEMA, seeded, "query($m: String!) { manufacturer(manufacturerId: $m) { name } }", SUPPLIER, m=huge
    )
    [error] = result.errors
    assert error.extensions["code"] == "BAD_USER_INPUT" and len(error.message) < 200
    coerced = await execute(
        SCHEMA, seeded, "query($n: Int!) { cplEntry(number: $n) { number } }", SUPPLIER, n=huge
    )
    assert all(len(e.message) < 600 for e in coerced.errors)
    too_long = await execute(
        SCHEMA,
        seeded,
        "query($m: String!) { manufacturer(manufacturerId: $m) { name } }",
        SUPPLIER,
        m="Z" * 70_000,
    )
    assert extensions(too_long) == [{"code": "BAD_USER_INPUT", "field": "m"}]


@pytest.mark.parametrize(
    ("representation", "field"),
    [
        ({"__typename": "Manufacturer"}, "representations[0]"),
        ({"__typename": "Manufacturer", "manufacturerId": 123}, "representations[0].manufacturerId"),
        ({"__typename": "CplEntry", "number": "\u00b2"}, "representations[0].number"),
        ({"__typename": "CplEntry", "number": 1.5}, "representations[0].number"),
        ({"__typename": "CplEntry", "number": 2**40}, "representations[0].number"),
        ({"__typename": "CplEntry", "number": True}, "representations[0].number"),
        ({"__typename": "Nope", "id": "1"}, "representations[0].__typename"),
        ({"manufacturerId": "106C"}, "representations[0].__typename"),
        ("106C", "representations[0]"),
        (0, "representations[0]"),
        ([], "representations[0]"),
    ],
)
async def test_malformed_representations_fail_alone(
    seeded: asyncpg.Pool, representation: Any, field: str
) -> None:
    good = {"__typename": "Manufacturer", "manufacturerId": "106c", "extra": "ignored"}
    result = await execute(SCHEMA, seeded, ENTITIES, SUPPLIER, r=[representation, good])
    assert result.data == {"_entities": [None, {"__typename": "Manufacturer"}]}
    assert extensions(result) == [{"code": "BAD_USER_INPUT", "field": field}]
    assert result.errors[0].path == ["_entities", 0]


async def test_a_null_representation_is_refused_by_coercion(seeded: asyncpg.Pool) -> None:
    result = await execute(SCHEMA, seeded, ENTITIES, SUPPLIER, r=[None])
    assert result.data is None and extensions(result) == [{"code": "BAD_USER_INPUT"}]


async def test_caps_by_principal_before_coercion(seeded: asyncpg.Pool) -> None:
    fleet = "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total } }"
    anonymous = await execute(SCHEMA, seeded, fleet, ANONYMOUS, d=[IDENTITY] * 1001)
    assert extensions(anonymous) == [{"code": "BAD_USER_INPUT", "field": "d", "limit": 1000}]
    reader = await execute(SCHEMA, seeded, fleet, SUPPLIER, d=[IDENTITY] * 1001)
    assert reader.data == {"fleetStatus": {"total": 1001}}
    # a list nested anywhere in a variable counts, and so does a malformed item: coercion never runs
    nested = await execute(SCHEMA, seeded, fleet, ANONYMOUS, d=[{**IDENTITY, "ref": ["x"] * 1001}])
    assert extensions(nested) == [{"code": "BAD_USER_INPUT", "field": "d[0].ref", "limit": 1000}]
    reps = [{"__typename": "Manufacturer", "manufacturerId": "106C"}] * 101
    entities = await execute(SCHEMA, seeded, ENTITIES, ANONYMOUS, r=reps)
    assert extensions(entities) == [{"code": "BAD_USER_INPUT", "field": "representations", "limit": 100}]
    assert (await execute(SCHEMA, seeded, ENTITIES, SUPPLIER, r=reps)).errors is None


@pytest.mark.parametrize(
    "query",
    [
        "query($r: [_Any!]!) { ...F } fragment F on Query { _entities(representations: $r) { __typename } }",
        "query($r: [_Any!]!) { ... { ...G } } fragment G on Query { ...F }"
        " fragment F on Query { _entities(representations: $r) { __typename } }",
        "query($r: [_Any!]!) { ...F ...F } fragment F on Query { _entities(representations: $r) { __typename } }",
    ],
    ids=["spread", "nested-spreads", "repeated-spread"],
)
async def test_the_entities_cap_follows_fragment_spreads(seeded: asyncpg.Pool, query: str) -> None:
    reps = [{"__typename": "Manufacturer", "manufacturerId": "106C"}] * 101
    refused = await execute(SCHEMA, seeded, query, ANONYMOUS, r=reps)
    assert refused.data is None
    assert extensions(refused) == [{"code": "BAD_USER_INPUT", "field": "representations", "limit": 100}]
    allowed = await execute(SCHEMA, seeded, query, ANONYMOUS, r=reps[:100])
    assert allowed.errors is None and len(allowed.data["_entities"]) == 100


async def test_entities_batches_in_several_fragments_add_up(seeded: asyncpg.Pool) -> None:
    query = (
        "query($r: [_Any!]!) { ...A ...B }"
        " fragment A on Query { a: _entities(representations: $r) { __typename } }"
        " fragment B on Query { b: _entities(representations: $r) { __typename } }"
    )
    reps = [{"__typename": "Manufacturer", "manufacturerId": "106C"}] * 51
    refused = await execute(SCHEMA, seeded, query, ANONYMOUS, r=reps)
    assert extensions(refused) == [{"code": "BAD_USER_INPUT", "field": "representations", "limit": 100}]
    assert (await execute(SCHEMA, seeded, query, ANONYMOUS, r=reps[:50])).errors is None


def _defaulted(count: int, fields: int) -> str:
    reps = ", ".join(['{__typename: "Manufacturer", manufacturerId: "106C"}'] * count)
    aliases = " ".join(f"a{k}: _entities(representations: $r) {{ __typename }}" for k in range(fields))
    return f"query($r: [_Any!]! = [{reps}]) {{ {aliases} }}"


async def test_the_entities_cap_counts_a_variables_default_list(seeded: asyncpg.Pool) -> None:
    """A request that leaves the variable out runs its default: 3 fields x 40 = 120 > 100."""
    refused = await execute(SCHEMA, seeded, _defaulted(40, 3), ANONYMOUS)
    assert refused.data is None and refused.errors[0].path is None  # refused before execution
    assert extensions(refused) == [{"code": "BAD_USER_INPUT", "field": "representations", "limit": 100}]
    allowed = await execute(SCHEMA, seeded, _defaulted(40, 2), ANONYMOUS)
    assert allowed.errors is None and len(allowed.data["a1"]) == 40
    # a value sent for the variable replaces the default, and is what counts
    sent = await execute(SCHEMA, seeded, _defaulted(40, 3), ANONYMOUS, r=[IDENTITY_REP])
    assert sent.errors is None and [len(v) for v in sent.data.values()] == [1, 1, 1]


async def test_the_entities_resolver_holds_the_cap_on_coerced_lists(
    seeded: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: with the document count blinded, the resolver still refuses the batch that
    takes the request past the caller's cap, and answers the ones before it."""
    monkeypatch.setattr("schema.input_limits.entities_requested", lambda *_: 0)
    result = await execute(SCHEMA, seeded, _defaulted(60, 2), ANONYMOUS)
    assert result.data is None
    [error] = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "representations", "limit": 100}
    assert "120 representations" in error.message and error.path == ["a1"]
    assert (await execute(SCHEMA, seeded, _defaulted(50, 2), ANONYMOUS)).errors is None
    assert (await execute(SCHEMA, seeded, _defaulted(60, 2), SUPPLIER)).errors is None


async def test_lists_written_in_the_document_are_held_to_the_callers_cap(seeded: asyncpg.Pool) -> None:
    """The list-items cap holds for literals too: an anonymous caller's 1,000, within the token limit."""
    ids = " ".join(['"106C"'] * 1001)
    literal = f"{{ changes(manufacturerIds: [{ids}]) {{ pageInfo {{ hasNextPage }} }} }}"
    refused = await execute(SCHEMA, seeded, literal, ANONYMOUS)
    assert extensions(refused) == [{"code": "BAD_USER_INPUT", "field": "manufacturerIds", "limit": 1000}]
    defaulted = (
        f"query($m: [String!] = [{ids}]) {{ changes(manufacturerIds: $m) {{ pageInfo {{ hasNextPage }} }} }}"
    )
    assert extensions(await execute(SCHEMA, seeded, defaulted, ANONYMOUS)) == [
        {"code": "BAD_USER_INPUT", "field": "m", "limit": 1000}
    ]
    allowed = await execute(SCHEMA, seeded, literal, SUPPLIER)
    assert allowed.errors is None and allowed.data["changes"]["pageInfo"] == {"hasNextPage": False}


async def test_several_operations_need_an_operation_name(seeded: asyncpg.Pool) -> None:
    result = await execute(
        SCHEMA,
        seeded,
        'query A { __typename } mutation B { removeCplEntry(number: 1, reason: "x") { number } }',
        SECAS,
    )
    assert result.data is None
    assert extensions(result) == [{"code": "GRAPHQL_VALIDATION_FAILED", "field": "operationName"}]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("a" * 35_000 + '"' + "b" * 35_000, "v[4]"),  # an escaped quote splits the run of bytes
        ("\u00e9" * 40_000, None),  # 80,000 bytes of UTF-8 but 40,000 characters: within
        ("x\x00", "v[4]"),
        ([["a"] * 1_001], "v[4][0]"),  # a nested list found breadth first
        ('quote " and backslash \\', None),
    ],
)
def test_the_fast_screen_never_misses_what_the_exact_walk_finds(value: Any, field: str | None) -> None:
    caps = InputCapsByPrincipal().anonymous
    for decoy in ("[", "\\u0000"):  # without, then with, a backslash elsewhere in the variables
        variables = {"v": ["padding" * 5_000, "padding" * 5_000, "[", decoy, value]}
        problem = variable_problem(variables, caps, Screen(65_536))
        assert (problem.field if problem else None) == field


async def test_an_int_key_may_come_as_decimal_text(seeded: asyncpg.Pool) -> None:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on CplEntry { number } } }"
    number = await seeded.fetchval("select min(number) from cpl_entries")
    as_text = await execute(
        SCHEMA, seeded, query, SUPPLIER, r=[{"__typename": "CplEntry", "number": str(number)}]
    )
    as_int = await execute(SCHEMA, seeded, query, SUPPLIER, r=[{"__typename": "CplEntry", "number": number}])
    assert as_text.errors is None and as_text.data == as_int.data == {"_entities": [{"number": number}]}
