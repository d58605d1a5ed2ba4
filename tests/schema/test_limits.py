"""Query limits answer QUERY_TOO_COMPLEX; pages are capped; cursors round-trip."""

from __future__ import annotations

import asyncpg

from schema.schema import SchemaLimits, build_schema
from tests.builders import SUPPLIER, Builder, execute


async def test_depth_limit(pool: asyncpg.Pool) -> None:
    deep = "{ manufacturers { edges { node { deviceModels { cplEntries { model { manufacturer { name } } } } } } } }"
    result = await execute(build_schema(SchemaLimits(max_depth=5)), pool, deep, SUPPLIER)
    assert result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    ok = await execute(build_schema(SchemaLimits(max_depth=8)), pool, deep, SUPPLIER)
    assert ok.errors is None


async def test_alias_limit(pool: asyncpg.Pool) -> None:
    query = "{ " + " ".join(f"a{i}: cplEntry(number: {i}) {{ number }}" for i in range(5)) + " }"
    result = await execute(build_schema(SchemaLimits(max_aliases=4)), pool, query, SUPPLIER)
    assert result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"


async def test_token_limit(pool: asyncpg.Pool) -> None:
    query = "{ " + " ".join(f"a{i}: cplEntry(number: {i}) {{ number }}" for i in range(50)) + " }"
    result = await execute(build_schema(SchemaLimits(max_tokens=100)), pool, query, SUPPLIER)
    assert result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"


async def test_pages_walk_and_cap(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        for i in range(5):
            await b.manufacturer(f"20{i:02d}", f"Maker {i}")
    schema = build_schema()
    query = (
        "query($after: String) { manufacturers(first: 2, after: $after) { edges { node { manufacturerId } }"
    )
    query += " pageInfo { hasNextPage endCursor } } }"
    seen, after = [], None
    while True:
        page = (await execute(schema, pool, query, SUPPLIER, after=after)).data["manufacturers"]
        seen += [e["node"]["manufacturerId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"20{i:02d}" for i in range(5)]
    too_big = await execute(schema, pool, "{ manufacturers(first: 1000) { edges { cursor } } }", SUPPLIER)
    assert too_big.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "first"}
    bad = await execute(schema, pool, '{ cplEntries(after: "nope") { edges { cursor } } }', SUPPLIER)
    assert bad.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "after"}
