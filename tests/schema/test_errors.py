"""Error codes: the document's faults, the caller's data faults and our own faults are told apart."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import pytest

from resolvers.principal import ANONYMOUS
from schema.schema import build_schema
from tests.builders import SUPPLIER, context_for, execute


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int) { cplEntry(number: 1) { number } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("{ cplEntry(number: 1) { number }", {}, "GRAPHQL_PARSE_FAILED"),
        ("query($n: Int!) { cplEntry(number: $n) { number } }", {}, "BAD_USER_INPUT"),
        ("query($n: Int!) { cplEntry(number: $n) { number } }", {"n": "one"}, "BAD_USER_INPUT"),
        (
            "query($s: CplStatus) { cplEntries(status: $s) { edges { cursor } } }",
            {"s": "GONE"},
            "BAD_USER_INPUT",
        ),
    ],
)
async def test_codes(pool: asyncpg.Pool, query: str, variables: dict[str, Any], code: str) -> None:
    result = await execute(build_schema(), pool, query, SUPPLIER, **variables)
    assert {e.extensions["code"] for e in result.errors} == {code}


async def test_unexpected_errors_are_masked_and_logged_once(
    pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    await pool.execute("alter table manufacturers rename column name to name_gone")
    with caplog.at_level(logging.ERROR, logger="fir.errors"):
        result = await execute(
            build_schema(), pool, '{ manufacturer(manufacturerId: "106C") { name } }', SUPPLIER
        )
    [error] = result.errors
    assert error.message == "Internal server error" and error.extensions == {"code": "INTERNAL"}
    assert "name_gone" not in str(result.errors) and "column" not in error.message
    assert len([r for r in caplog.records if r.name == "fir.errors"]) == 1


# --- streamed operations (graphql-transport-ws runs queries and mutations through schema.stream) --------

DEVICE = (
    'query { device(identity: {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC",'
    ' firmwareVersion: "00000001"}) { onCpl lineage { version } } }'
)


async def streamed(schema: Any, query: str, context: Any) -> list[Any]:
    results = await schema.stream(query, context_value=context)
    return [result async for result in results]


async def test_streamed_operations_are_masked_like_executed_ones(
    pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    await pool.execute("alter table manufacturers rename column name to name_gone")
    query = '{ manufacturer(manufacturerId: "106C") { name } }'
    with caplog.at_level(logging.ERROR, logger="fir.errors"):
        [result] = await streamed(build_schema(), query, context_for(pool, SUPPLIER))
    [error] = result.errors
    assert error.message == "Internal server error" and error.extensions == {"code": "INTERNAL"}
    assert "name_gone" not in str(result.errors)
    assert len([r for r in caplog.records if r.name == "fir.errors"]) == 1


async def test_each_streamed_operation_has_its_own_context(seeded: asyncpg.Pool) -> None:
    """One WebSocket context runs many operations: each reports its own forbidden lists (an anonymous
    lineage is [] with FORBIDDEN) and reads afresh, never what an earlier operation's loaders held."""
    schema = build_schema()
    connection = context_for(seeded, ANONYMOUS)
    for _ in range(2):
        [result] = await streamed(schema, DEVICE, connection)
        assert result.data == {"device": {"onCpl": True, "lineage": []}}
        assert [(e.extensions["code"], e.path) for e in result.errors] == [
            ("FORBIDDEN", ["device", "lineage"])
        ]
    assert connection.extra_errors == []
    name = '{ manufacturer(manufacturerId: "106C") { name } }'
    [before] = await streamed(schema, name, connection)
    await seeded.execute("update manufacturers set name = 'Renamed' where manufacturer_id = '106C'")
    [after] = await streamed(schema, name, connection)
    assert before.data["manufacturer"]["name"] != "Renamed"
    assert after.data == {"manufacturer": {"name": "Renamed"}}
