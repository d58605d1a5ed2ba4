"""A long document's parse and cost analysis run off the loop: the aliased-introspection attack (issue 9)
held the loop 100-150 ms in those two steps alone, and /healthz past its 250 ms bound on a busy machine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import GraphQLError, parse

from schema import cost_cache, parsing
from schema.schema import build_schema
from tests.e2e import attacks
from tests.schema.test_slices import longest_stall


@dataclass
class Runs:
    """Where a function ran (thread ids) and the CPU each call took in its thread."""

    threads: set[int] = field(default_factory=set)
    cpu: list[float] = field(default_factory=list)


def runs_of(module: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> Runs:
    """Records every call of `module.name` from now on (the function still runs)."""
    runs = Runs()
    function: Callable[..., Any] = getattr(module, name)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        runs.threads.add(threading.get_ident())
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            runs.cpu.append(time.thread_time() - started)

    monkeypatch.setattr(module, name, recorded)
    return runs


async def test_a_long_refused_document_leaves_the_loop_free(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = build_schema()
    query = attacks.aliased_introspection() + " # fresh"
    assert parsing.is_long(query)
    parses = runs_of(parsing, "parse", monkeypatch)
    result, busiest, _, _ = await longest_stall(lambda: schema.execute(query), time.thread_time)
    assert result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    assert parses.threads and threading.get_ident() not in parses.threads
    assert busiest < sum(parses.cpu) / 4, (busiest, parses.cpu)


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


async def test_a_long_documents_cost_analysis_leaves_the_loop_free(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = build_schema()
    query = attacks.aliased_introspection()
    document = parse(query)
    analyses = runs_of(cost_cache, "analyse", monkeypatch)
    analysis, busiest, _, _ = await longest_stall(
        lambda: schema.analyses.of(query + " # cost", document, None), time.thread_time
    )
    assert analysis.cost > 20_000
    assert analyses.threads and threading.get_ident() not in analyses.threads
    assert busiest < sum(analyses.cpu) / 4, (busiest, analyses.cpu)
