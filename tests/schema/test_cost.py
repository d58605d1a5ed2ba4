"""Query cost: refused before validation and before any SQL, linear in the document, budget per caller."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from graphql import get_introspection_query, get_named_type, is_object_type, parse

from resolvers.principal import ANONYMOUS, Principal
from schema.cost import analyse
from schema.input_cost import is_list_somewhere
from schema.limits import Budgets, SchemaLimits
from schema.schema import build_schema
from schema.sizes import FLEET_DEVICE_WEIGHT
from tests.builders import SECAS, SUPPLIER, Builder, execute, publisher

SCHEMA = build_schema()
MODEL = SCHEMA.cost_model
BUDGETS = Budgets()
README = Path(__file__).parents[2].joinpath("README.md").read_text()
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, re.S)
DEVICE_EXAMPLE, FLEET_EXAMPLE = EXAMPLES[0], EXAMPLES[1]
CALLERS = [ANONYMOUS, SUPPLIER, publisher("106C"), SECAS]

CHAIN = """{ manufacturers { edges { node { deviceModels { cplEntries { model { manufacturer {
  deviceModels { cplEntries { number } } } } } } } } } }"""
ALIASED_SCHEMA = (
    "{ __schema { "
    + " ".join(
        f"a{i}: types {{ fields {{ name type {{ name fields {{ name type {{ name fields {{ name type {{ name"
        " fields { name } } } } } } } }"
        for i in range(8)
    )
    + " } }"
)
PAGE = """{ cplEntries(first: 100) { edges { cursor node { number status imageHash model { name
  manufacturer { name } } } } pageInfo { hasNextPage endCursor } } }"""
INTROSPECTION = get_introspection_query(descriptions=True, input_value_deprecation=True)
ENTITIES = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on CplEntry { number } } }"


def doubling(levels: int) -> str:
    """The attack: each fragment spreads the previous one twice, 2**levels fields once expanded."""
    fragments = ["fragment F0 on CplEntry { number status }"]
    fragments += [f"fragment F{i} on CplEntry {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"{{ cplEntry(number: 1) {{ ...F{levels} }} }} " + " ".join(fragments)


def fleet(devices: int) -> list[dict[str, str]]:
    one = {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "124074DA",
    }
    return [{"ref": f"M{n}", **one} for n in range(devices)]


def cost(query: str, **variables: Any) -> int:
    return analyse(MODEL, parse(query), variables).cost


async def refused(pool: asyncpg.Pool, query: str, caller: Principal, **variables: Any) -> dict[str, Any]:
    result = await execute(SCHEMA, pool, query, caller, **variables)
    assert result.data is None
    [error] = result.errors
    assert error.extensions["code"] == "QUERY_TOO_COMPLEX", error
    assert result.context.loaders.db.log.count == 0, "refused before any resolver ran"
    return dict(error.extensions)


@pytest.fixture
async def entry_one(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        await b.release("106C", "4331", "00AC", "124074DA", date="2024-01-01")


@pytest.mark.parametrize("caller", CALLERS, ids=["anonymous", "reader", "publisher", "admin"])
async def test_readme_examples_pass_for_every_caller(
    pool: asyncpg.Pool, entry_one: None, caller: Principal
) -> None:
    device = await execute(SCHEMA, pool, DEVICE_EXAMPLE, caller)
    fleet_status = await execute(SCHEMA, pool, FLEET_EXAMPLE, caller, devices=fleet(100))
    for result in (device, fleet_status):
        codes = {e.extensions["code"] for e in result.errors or ()}
        assert codes <= {"FORBIDDEN"}, result.errors
    assert fleet_status.data["fleetStatus"]["total"] == 100


def test_readme_figures() -> None:
    """The numbers the README quotes."""
    assert cost(DEVICE_EXAMPLE) == 101
    assert cost(FLEET_EXAMPLE, devices=fleet(100_000)) == 1_014_034
    assert cost(FLEET_EXAMPLE, devices=fleet(1_000_000)) == 10_014_034
    assert cost(INTROSPECTION) == 8_031
    assert cost(PAGE) == 416
    assert cost(CHAIN) == 2_020_602_051


async def test_hundred_thousand_device_fleet_fits_a_reader(pool: asyncpg.Pool, entry_one: None) -> None:
    result = await execute(SCHEMA, pool, FLEET_EXAMPLE, SUPPLIER, devices=fleet(100_000))
    assert result.errors is None, result.errors
    assert result.data["fleetStatus"]["total"] == 100_000


async def test_anonymous_callers_cannot_send_big_fleets(pool: asyncpg.Pool) -> None:
    devices = fleet(BUDGETS.anonymous // FLEET_DEVICE_WEIGHT)
    extensions = await refused(pool, FLEET_EXAMPLE, ANONYMOUS, devices=devices)
    assert extensions["budget"] == BUDGETS.anonymous
    assert extensions["cost"] == cost(FLEET_EXAMPLE, devices=devices) > BUDGETS.anonymous


async def test_page_of_a_hundred_entries_and_introspection_pass_anonymously(pool: asyncpg.Pool) -> None:
    for query in (PAGE, INTROSPECTION):
        result = await execute(SCHEMA, pool, query, ANONYMOUS)
        assert result.errors is None, result.errors


async def test_doubling_fragments_refused_before_validation(pool: asyncpg.Pool) -> None:
    query = doubling(40)
    assert len(query.encode()) < 2000
    extensions = await refused(pool, query, SECAS)
    assert extensions["cost"] == 2**41 + 2  # 2**40 copies of two fields, plus cplEntry's weight and selection
    assert extensions["budget"] == BUDGETS.admin


async def test_fragments_cannot_expand_past_the_token_limit(pool: asyncpg.Pool) -> None:
    """Within an admin's budget, but validation would walk 2**13 copies: capped like the text itself."""
    extensions = await refused(pool, doubling(12), SECAS)
    assert extensions == {"code": "QUERY_TOO_COMPLEX", "selections": 2**13 + 1, "limit": 5000}


def test_fragments_are_costed_once() -> None:
    """Visits grow with the text, not with the expansion: each fragment is walked once."""
    small, large = (analyse(MODEL, parse(doubling(n))) for n in (10, 40))
    assert (small.selections, large.selections) == (2**11 + 1, 2**41 + 1)
    assert small.visits == 2 * 10 + 4 and large.visits == 2 * 40 + 4


async def test_fragment_cycles_end(pool: asyncpg.Pool) -> None:
    query = (
        "{ ...A } fragment A on Query { cplEntry(number: 1) { number } ...B } fragment B on Query { ...A }"
    )
    result = await execute(SCHEMA, pool, query, SUPPLIER)
    assert result.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_aliases_under_schema_are_costed(pool: asyncpg.Pool) -> None:
    extensions = await refused(pool, ALIASED_SCHEMA, ANONYMOUS)
    assert extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": cost(ALIASED_SCHEMA),
        "budget": BUDGETS.anonymous,
    }


async def test_depth_and_aliases_count_under_introspection(pool: asyncpg.Pool) -> None:
    deep = "{ __schema { types { " + "ofType { " * 14 + "name" + " }" * 14 + " } } }"
    assert (await refused(pool, deep, SECAS))["depth"] == 17
    aliases = "{ __schema { " + " ".join(f"a{i}: queryType {{ name }}" for i in range(31)) + " } }"
    assert (await refused(pool, aliases, SECAS))["aliases"] == 31


async def test_unpaginated_chain_refused_for_everyone(pool: asyncpg.Pool) -> None:
    for caller in (SUPPLIER, SECAS):
        extensions = await refused(pool, CHAIN, caller)
        # 20 manufacturers (default page) x 100 models x 100 entries x 100 models x 100 entries
        assert extensions["cost"] == cost(CHAIN) > 2 * 10**9


async def test_entities_cost_per_representation(pool: asyncpg.Pool) -> None:
    reps = [{"__typename": "CplEntry", "number": n} for n in range(100_000)]
    extensions = await refused(pool, ENTITIES, ANONYMOUS, reps=reps)
    assert extensions["cost"] == 100_000 + 2  # one object per representation, two field selections
    assert extensions["budget"] == BUDGETS.anonymous


async def test_variables_size_lists(pool: asyncpg.Pool) -> None:
    query = "query($n: Int) { cplEntries(first: $n) { nodes { model { name } } } }"
    assert cost(query) == 1 + 20 * 2 + 4  # absent: the default page of 20
    assert cost(query, n=5) == 1 + 5 * 2 + 4
    extensions = await refused(pool, query, ANONYMOUS, n=10**6)
    assert extensions["cost"] == 1 + 2 * 10**6 + 4


def test_integral_floats_and_variable_defaults_size_lists() -> None:
    """graphql-core coerces 100.0 to the Int 100 and fills an absent variable from its default."""
    query = "query($n: Int) { cplEntries(first: $n) { nodes { model { name } } } }"
    assert cost(query, n=100.0) == cost(query, n=100) == 1 + 100 * 2 + 4
    defaulted = "query($n: Int = 100) { cplEntries(first: $n) { nodes { model { name } } } }"
    assert cost(defaulted) == 1 + 100 * 2 + 4
    assert cost(defaulted, n=5) == 1 + 5 * 2 + 4


async def test_budgets_differ_per_caller(pool: asyncpg.Pool, entry_one: None) -> None:
    budgets = Budgets(anonymous=100, reader=1_000, publisher=2_000, admin=3_000)
    schema = build_schema(SchemaLimits(budgets=budgets))
    query = "query($n: Int) { cplEntries(first: $n) { nodes { number } } }"
    for caller, budget in zip(CALLERS, (100, 1_000, 2_000, 3_000), strict=True):
        refusal = await execute(schema, pool, query, caller, n=budget)
        assert refusal.errors[0].extensions == {
            "code": "QUERY_TOO_COMPLEX",
            "cost": budget + 4,
            "budget": budget,
        }
        allowed = await execute(schema, pool, query, caller, n=budget - 4)
        assert allowed.errors is None or allowed.errors[0].extensions["code"] == "BAD_USER_INPUT"  # page cap


def test_every_object_list_declares_its_size() -> None:
    """A new list of objects fails here until someone gives it @listSize (or a Connection's `first`)."""
    missing = [
        f"{type_.name}.{name}"
        for type_ in SCHEMA._schema.type_map.values()
        if is_object_type(type_) and not type_.name.startswith("__") and not type_.name.endswith("Connection")
        for name, field in type_.fields.items()
        if is_list_somewhere(field.type)
        and is_object_type(get_named_type(field.type))
        and MODEL.rule(type_, name, field).list_size is None
    ]
    assert missing == [], missing


def test_sdl_prints_the_model() -> None:
    sdl = SCHEMA.as_str()
    assert '"@cost"' in sdl and '"@listSize"' in sdl
    assert "deviceModels: [DeviceModel!]! @listSize(assumedSize: 100)" in sdl
    assert "cplEntries: [CplEntry!]! @listSize(assumedSize: 100)" in sdl
    assert "fleetStatus(devices: [FleetDeviceInput!]! @cost(weight: 10)): FleetStatus!" in sdl
    assert 'sizedFields: ["edges", "nodes"], requireOneSlicingArgument: false)' in sdl
