"""The remembered cost analysis: shared by requests that differ only in strings, never by ones it would cost differently."""

from __future__ import annotations

import asyncio
from types import MappingProxyType
from typing import Any

import asyncpg
from graphql import parse

from resolvers.principal import ANONYMOUS
from schema.cost import analyse
from schema.cost_cache import MAX_SHAPE_NODES, Analyses, cache_key, shape
from schema.schema import build_schema
from tests.builders import execute, identity_input

MODEL = build_schema().cost_model
PAGE = "query($n: Int) { cplEntries(first: $n) { nodes { number } } }"
DEVICE = "query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl } }"
FLEET = "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total } }"


def analysed(analyses: Analyses, query: str, **variables: Any) -> int:
    cost = asyncio.run(analyses.of(query, parse(query), variables)).cost
    assert cost == analyse(MODEL, parse(query), variables).cost, "the remembered cost is the fresh one"
    return cost


def test_requests_differing_in_strings_share_one_entry() -> None:
    analyses = Analyses(MODEL)
    analysed(analyses, DEVICE, id=identity_input("124074DA"))
    analysed(analyses, DEVICE, id=identity_input("00000001"))
    assert len(analyses.entries) == 1


def test_what_the_cost_reads_from_variables_keeps_entries_apart() -> None:
    analyses = Analyses(MODEL)
    assert analysed(analyses, PAGE, n=5) < analysed(analyses, PAGE) < analysed(analyses, PAGE, n=500)
    small, missing_field = identity_input("124074DA"), identity_input("124074DA")
    del missing_field["firmwareVersion"]
    analysed(analyses, DEVICE, id=small)
    analysed(analyses, DEVICE, id=missing_field)
    assert len(analyses.entries) == 5


def test_large_variables_are_analysed_afresh() -> None:
    analyses = Analyses(MODEL)
    few = [{"ref": str(n), **identity_input("124074DA")} for n in range(3)]
    many = few * MAX_SHAPE_NODES
    assert analysed(analyses, FLEET, d=few) < analysed(analyses, FLEET, d=many)
    assert cache_key(FLEET, {"d": many}) is None
    assert len(analyses.entries) == 1


def test_the_cache_is_bounded() -> None:
    analyses = Analyses(MODEL, maxsize=3)
    for n in range(10):
        analysed(analyses, PAGE, n=n)
    assert [key[1] for key in analyses.entries] == [cache_key(PAGE, {"n": n})[1] for n in (7, 8, 9)]  # type: ignore[index]


async def test_a_cheap_request_remembered_does_not_let_a_costly_one_through(pool: asyncpg.Pool) -> None:
    schema = build_schema()
    small = await execute(schema, pool, PAGE, ANONYMOUS, n=5)
    assert small.errors is None, small.errors
    big = await execute(schema, pool, PAGE, ANONYMOUS, n=10**6)
    assert big.errors is not None and big.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    assert len(schema.analyses.entries) == 2


def test_a_shape_is_the_same_whatever_the_containers_are() -> None:
    """The exact-type fast path (dict, list, str) and the abstract one (any Mapping or sequence)
    describe the same value alike, and a string never counts as a sequence."""
    plain = {"b": [1, "x", None, True, 2.0], "a": {"c": "y"}}
    wrapped = MappingProxyType({"a": MappingProxyType({"c": "y"}), "b": (1, "x", None, True, 2.0)})
    assert shape(plain, [MAX_SHAPE_NODES]) == shape(wrapped, [MAX_SHAPE_NODES])
    inner = ("{", (("c", "scalar"),))
    items = ("[", (("int", 1), "scalar", None, True, ("int", 2)))
    assert shape(plain, [MAX_SHAPE_NODES]) == ("{", (("a", inner), ("b", items)))
    assert shape("abc", [MAX_SHAPE_NODES]) == "scalar"
