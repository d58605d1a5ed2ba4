"""The endpoint's fast lane: the common POST of one JSON operation, read and parsed once, without strawberry's view."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import Scope
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

from gateway.request_body import loads

JSON = "application/json"
# The members of a GraphQL over HTTP request the lane takes; any other (documentId among them) goes the long way.
_MEMBERS = frozenset({"query", "variables", "operationName", "extensions"})


def takes(request: Request, stream_transports: bool) -> bool:
    """Whether the lane may try the request: a POST of application/json, with no streaming transport asked
    for (none is configured unless `stream_transports`). Everything else is strawberry's view, which
    answers it (GET, GraphiQL, multipart, the 415 for another content type) as it always did."""
    if request.scope["method"] != "POST" or stream_transports:
        return False
    declared = headers(request.scope, b"content-type")[0] or ""
    return declared == JSON or parse_content_type(declared)[0] == JSON


def headers(scope: Scope, *names: bytes) -> list[str | None]:
    """Each named header's first value, as starlette's `Headers.get` reads it, in one pass over the
    scope's list (names as ASGI gives them: lower case)."""
    found: list[str | None] = [None] * len(names)
    for name, value in scope["headers"]:
        if name in names:
            index = names.index(name)
            if found[index] is None:
                found[index] = value.decode("latin-1")
    return found


def request_data(body: Any) -> GraphQLRequestData | None:
    """The request, when the body is a JSON object of the usual shape (`query` a string; variables and
    extensions objects or null; operationName a string or null, nothing else); None sends it the long way,
    which refuses it with its own message if it must."""
    try:
        data = loads(body)
    except ValueError:  # orjson's JSONDecodeError, or a large body that is not UTF-8
        return None
    if type(data) is not dict or not data.keys() <= _MEMBERS:
        return None
    query = data.get("query")
    variables = data.get("variables")
    name = data.get("operationName")
    extensions = data.get("extensions")
    if type(query) is not str or not (name is None or type(name) is str):
        return None
    if not (variables is None or type(variables) is dict) or not (
        extensions is None or type(extensions) is dict
    ):
        return None
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=name, extensions=extensions, protocol="http"
    )
