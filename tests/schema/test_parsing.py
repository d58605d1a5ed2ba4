"""A long document's parse and cost analysis run off the loop: the aliased-introspection attack (issue 9)
held the loop 100-150 ms in those two steps alone, and /healthz past its 250 ms bound on a busy machine."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, parse

from schema import parsing
from schema.schema import build_schema
from tests.e2e import attacks
from tests.schema.test_slices import longest_stall


async def test_a_long_refused_document_leaves_the_loop_free() -> None:
    schema = build_schema()
    query = attacks.aliased_introspection() + " # fresh"
    assert parsing.is_long(query)
    result, stall, elapsed, turns = await longest_stall(lambda: schema.execute(query))
    assert result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    # on the loop, the parse alone is one turn of more than half the request
    assert stall < elapsed / 4, (stall, elapsed, turns)


async def test_one_document_object_per_text_and_errors_not_remembered() -> None:
    schema = build_schema()
    long_query = "{ __typename " + " " * parsing.OFF_LOOP_CHARS + "}"
    for query in ("{ __typename }", long_query):
        first = await schema.execute(query)
        assert first.data == {"__typename": "Query"}
        assert parsing._documents[(query, 5000)] is parsing._documents[(query, 5000)]
        document = parsing._documents[(query, 5000)]
        await schema.execute(query)
        assert parsing._documents[(query, 5000)] is document
    broken = "{ __typename " + " " * parsing.OFF_LOOP_CHARS
    result = await schema.execute(broken)
    assert result.errors and result.errors[0].extensions["code"] == "GRAPHQL_PARSE_FAILED"
    assert (broken, 5000) not in parsing._documents


@pytest.mark.parametrize("length", [100, parsing.OFF_LOOP_CHARS + 1])
async def test_too_many_tokens_is_refused_either_way(length: int) -> None:
    schema = build_schema()
    query = "{ " + "a " * 6000 + "}" + " " * length
    result = await schema.execute(query)
    assert result.errors is not None
    assert isinstance(result.errors[0], GraphQLError)
    assert "token" in result.errors[0].message.lower()


async def test_a_long_documents_cost_analysis_leaves_the_loop_free() -> None:
    schema = build_schema()
    query = attacks.aliased_introspection()
    document = parse(query)
    analysis, stall, elapsed, _ = await longest_stall(
        lambda: schema.analyses.of(query + " # cost", document, None)
    )
    assert analysis.cost > 20_000
    assert stall < elapsed / 4, (stall, elapsed)
