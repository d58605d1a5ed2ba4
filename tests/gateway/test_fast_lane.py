"""Which requests the endpoint's fast lane takes, and that it takes them without strawberry's view.

That it answers them exactly as the view does is tests/e2e/test_fast_lane.py (two real servers).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from gateway import fast_lane
from gateway.graphql import GraphQLEndpoint
from gateway.request_body import LEAN_PARSE_BYTES
from gateway.resources import Resources
from gateway.settings import load_settings
from resolvers.principal import ANONYMOUS
from schema.schema import build_schema


def request(method: str = "POST", content_type: str | None = "application/json") -> Request:
    headers = [(b"content-type", content_type.encode())] if content_type is not None else []
    return Request({"type": "http", "method": method, "headers": headers, "query_string": b""})


@pytest.mark.parametrize(
    ("method", "content_type", "taken"),
    [
        ("POST", "application/json", True),
        ("POST", "application/json; charset=utf-8", True),
        ("POST", "Application/JSON", False),  # strawberry's parse keeps the case: the view refuses it (415)
        ("POST", "text/plain", False),
        ("POST", "application/jsonx", False),
        ("POST", None, False),
        ("GET", "application/json", False),
    ],
)
def test_the_lane_takes_posts_of_json_only(method: str, content_type: str | None, taken: bool) -> None:
    assert fast_lane.takes(request(method, content_type), stream_transports=False) is taken
    assert fast_lane.takes(request(method, content_type), stream_transports=True) is False


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ __typename }"},
        {"query": "q", "variables": {"a": 1}, "operationName": "Q", "extensions": {"x": 1}},
        {"query": "q", "variables": None, "operationName": None, "extensions": None},
    ],
)
def test_the_usual_request_is_read_in_the_lane(body: dict[str, Any]) -> None:
    data = fast_lane.request_data(orjson.dumps(body))
    assert data is not None and data.protocol == "http"
    assert (data.query, data.variables, data.operation_name, data.extensions) == (
        body["query"],
        body.get("variables"),
        body.get("operationName"),
        body.get("extensions"),
    )


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'[{"query": "q"}]',
        b"null",
        b'"q"',
        b"",
        b"{}",
        b'{"query": null}',
        b'{"query": 1}',
        b'{"documentId": "abc"}',
        b'{"query": "q", "documentId": "abc"}',
        b'{"query": "q", "variables": "x"}',
        b'{"query": "q", "variables": []}',
        b'{"query": "q", "extensions": []}',
        b'{"query": "q", "operationName": 1}',
        b'{"query": "q", "x": "\\ud800"}',
    ],
)
def test_anything_else_goes_the_long_way(body: bytes) -> None:
    assert fast_lane.request_data(body) is None


def test_a_large_body_is_read_as_the_view_reads_it() -> None:
    query = "{ __typename }" + " " * LEAN_PARSE_BYTES
    data = fast_lane.request_data(orjson.dumps({"query": query}).decode())  # read_body decodes large bodies
    assert data is not None and data.query == query


def endpoint_app(endpoint: GraphQLEndpoint, resources: Resources) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = {"resources": resources, "principal": ANONYMOUS, "media_type": "application/json"}
        await endpoint._serve(scope, receive, send)

    return app


@pytest.mark.parametrize("lane", [True, False])
async def test_the_lane_bypasses_the_view_and_the_rest_still_takes_it(pool: asyncpg.Pool, lane: bool) -> None:
    endpoint = GraphQLEndpoint(build_schema(), graphql_ide=None, fast_lane=lane)
    viewed: list[str] = []
    run = endpoint.run

    async def counted_run(request: Any, *args: Any) -> Any:
        viewed.append(request.method)
        return await run(request, *args)

    endpoint.run = counted_run  # type: ignore[method-assign, assignment]
    resources = Resources(settings=load_settings(env_file=None), pool=pool)
    transport = httpx.ASGITransport(app=endpoint_app(endpoint, resources))
    async with httpx.AsyncClient(transport=transport, base_url="http://fir.test") as client:
        posted = await client.post("/graphql", json={"query": "{ __typename }"})
        assert posted.status_code == 200 and posted.json() == {"data": {"__typename": "Query"}}
        assert viewed == ([] if lane else ["POST"])
        odd = await client.post("/graphql", json={"query": "{ __typename }", "documentId": None})
        assert odd.status_code == 200 and odd.json() == {"data": {"__typename": "Query"}}
        got = await client.get("/graphql", params={"query": "{ __typename }"})
        assert got.json() == {"data": {"__typename": "Query"}}
    assert viewed == (["POST", "GET"] if lane else ["POST", "POST", "GET"])
