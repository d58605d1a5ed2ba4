"""Error codes: the document's faults, the caller's data faults and our own faults are told apart."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import pytest

from schema.schema import build_schema
from tests.builders import SUPPLIER, execute


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
