"""Which GraphQL requests the response cache may answer, and their keys (document, variables, visibility)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse, print_ast
from starlette.datastructures import QueryParams
from starlette.types import Scope

from gateway.cache_store import CacheKey
from gateway.trusted_documents import Refused, id_of
from resolvers.principal import Principal

# Error codes that follow from the data and the caller's visibility alone, so they are as
# cacheable as data keyed on `visibility_key`; anything else (INTERNAL, limits) may be transient.
_DETERMINISTIC_ERRORS = frozenset({"FORBIDDEN"})


@dataclass(frozen=True)
class GraphQLRequest:
    query: str | None  # None: a request by id only, whose document `gateway.cache.serve` looks up
    operation_name: str | None
    variables: dict[str, Any] | None
    document_id: str | None = None  # a request by id (trusted documents)


@dataclass(frozen=True)
class ParsedDocument:
    normalised: str
    operations: dict[str | None, OperationType]


@functools.lru_cache(maxsize=256)
def parse_document(query: str, max_tokens: int) -> ParsedDocument | None:
    """Memoised by the raw text: clients repeat the same few documents verbatim."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operations: dict[str | None, OperationType] = {o.name.value: o.operation for o in ops if o.name}
    if len(ops) == 1:
        operations[None] = ops[0].operation
    return ParsedDocument(print_ast(document), operations)


def operation_type(request: GraphQLRequest, max_tokens: int) -> OperationType | None:
    """The type of the operation that will run; None when strawberry would refuse the request."""
    parsed = parse_document(request.query, max_tokens) if request.query is not None else None
    return parsed.operations.get(request.operation_name) if parsed else None


def cache_key(request: GraphQLRequest, principal: Principal, max_tokens: int) -> CacheKey | None:
    """The key for a query (never a mutation or subscription); None when it must not be cached. A request
    by id and one sending the same document as text share a key: they run the same document."""
    parsed = parse_document(request.query, max_tokens) if request.query is not None else None
    if parsed is None or parsed.operations.get(request.operation_name) is not OperationType.QUERY:
        return None
    try:
        variables = orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # nested deeper than orjson writes (about 254): the endpoint refuses it (400)
        return None
    return CacheKey(parsed.normalised, request.operation_name, variables, principal.visibility_key)


def request_from_params(data: Any) -> GraphQLRequest | None:
    """The shape strawberry accepts, minus batches and extensions (which could change the meaning) other
    than a trusted document's id (`extensions.persistedQuery` alone, or `documentId`)."""
    if not isinstance(data, dict):
        return None
    query, name, variables = data.get("query"), data.get("operationName"), data.get("variables")
    extensions = data.get("extensions")
    try:
        document_id = id_of(extensions, data.get("documentId"))
    except Refused:  # a malformed id: the endpoint refuses it
        return None
    by_extension = isinstance(extensions, dict) and extensions.keys() == {"persistedQuery"}
    if extensions is not None and (document_id is None or not by_extension):
        return None
    if not (isinstance(query, str) or (query is None and document_id is not None)):
        return None
    if not isinstance(name, str | None) or not isinstance(variables, dict | None):
        return None
    return GraphQLRequest(query, name, variables, document_id)


def request_from_get(scope: Scope) -> GraphQLRequest | None:
    params: dict[str, Any] = dict(QueryParams(scope.get("query_string", b"")))
    for name in ("variables", "extensions"):  # JSON in the query string, as GraphQL over HTTP writes them
        raw = params.get(name)
        if raw is not None:
            try:
                params[name] = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return None
    return request_from_params(params)


def request_from_post(body: bytes) -> GraphQLRequest | None:
    try:
        return request_from_params(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None


def body_is_cacheable(body: bytes) -> bool:
    """No errors, or only errors that follow from data and visibility; orjson writes no spaces."""
    if b'"errors":' not in body:
        return True
    errors = orjson.loads(body).get("errors")
    if not errors:
        return True
    return all((e.get("extensions") or {}).get("code") in _DETERMINISTIC_ERRORS for e in errors)
