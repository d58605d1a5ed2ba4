"""The response cache's keys: layout and variable order ignored, visibility partitions, queries only."""

from __future__ import annotations

import dataclasses
from typing import Any

from gateway.cache_keys import GraphQLRequest, body_is_cacheable, cache_key, request_from_params
from gateway.cache_store import CacheKey
from resolvers.principal import ANONYMOUS, Principal
from tests.builders import SUPPLIER, publisher

MAX_TOKENS = 5000


def query_key(query: str, principal: Principal = ANONYMOUS, **kwargs: Any) -> CacheKey | None:
    request = GraphQLRequest(query, kwargs.get("operation_name"), kwargs.get("variables"))
    return cache_key(request, principal, MAX_TOKENS)


def test_key_ignores_layout_and_variable_order() -> None:
    a = query_key("query Q($n: Int!) { cplEntry(number: $n) { number } }", variables={"n": 1, "x": [1, 2]})
    b = query_key(
        "# a comment\nquery   Q($n: Int!){cplEntry(number:$n){number}}", variables={"x": [1, 2], "n": 1}
    )
    assert a is not None and a == b
    assert a != query_key("query Q($n: Int!) { cplEntry(number: $n) { number } }", variables={"n": 2})


def test_key_partitions_on_visibility_only() -> None:
    query = "{ manufacturers { edges { node { name } } } }"
    assert query_key(query, ANONYMOUS) != query_key(query, SUPPLIER)
    assert query_key(query, publisher("106C")) != query_key(query, publisher("2000"))
    other_supplier = dataclasses.replace(SUPPLIER, subject="supplier-2", organisation="Other")
    assert query_key(query, SUPPLIER) == query_key(query, other_supplier)


def test_only_queries_have_keys() -> None:
    assert query_key('mutation { removeCplEntry(number: 1, reason: "x") { number } }') is None
    assert query_key("subscription { firmwareReleased { version } }") is None
    assert query_key("{ device(") is None  # unparseable: strawberry reports it
    two = "query A { manufacturers { edges { cursor } } } mutation B { __typename }"
    assert query_key(two) is None  # no operationName: ambiguous
    assert query_key(two, operation_name="A") is not None
    assert query_key(two, operation_name="B") is None
    assert query_key(two, operation_name="C") is None


def test_errors_other_than_forbidden_are_never_cached() -> None:
    assert body_is_cacheable(b'{"data":{"a":1}}')
    assert body_is_cacheable(b'{"data":{"errors":"an alias"}}')
    assert body_is_cacheable(b'{"data":null,"errors":[{"extensions":{"code":"FORBIDDEN"}}]}')
    assert not body_is_cacheable(b'{"data":null,"errors":[{"extensions":{"code":"INTERNAL"}}]}')
    assert not body_is_cacheable(b'{"data":null,"errors":[{"message":"boom"}]}')


def test_requests_by_id_are_read_with_their_id_and_nothing_else_that_could_change_the_meaning() -> None:
    digest = "ab" * 32
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest.upper()}}
    assert request_from_params({"documentId": f"sha256:{digest}"}) == GraphQLRequest(None, None, None, digest)
    by_extension = request_from_params({"extensions": persisted, "variables": {"n": 1}, "operationName": "Q"})
    assert by_extension == GraphQLRequest(None, "Q", {"n": 1}, digest)
    # the text sent alongside is kept: an unregistered id runs it (automatic persisted queries' retry)
    assert request_from_params({"documentId": digest, "query": "{ a }"}) == GraphQLRequest(
        "{ a }", None, None, digest
    )
    assert request_from_params({"extensions": {**persisted, "other": 1}}) is None
    assert request_from_params({"query": "{ a }", "extensions": {}}) is None
    assert request_from_params({"documentId": "not-a-hash"}) is None  # the endpoint refuses it
    assert request_from_params({"documentId": digest, "extensions": "persistedQuery"}) is None
    assert request_from_params({}) is None
    # only a request whose document is known has a key (gateway.cache looks a body up by its id)
    assert cache_key(GraphQLRequest(None, None, None, digest), ANONYMOUS, MAX_TOKENS) is None
