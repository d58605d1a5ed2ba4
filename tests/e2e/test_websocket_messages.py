"""A malformed or refused operation over WebSocket gets a clear error with a code, in both protocols, over a real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.database import DatabaseHandle
from tests.conftest import fresh_database
from tests.e2e.server import running_server

START = {"graphql-transport-ws": "subscribe", "graphql-ws": "start"}
PROTOCOLS = sorted(START)


@pytest.fixture(scope="module")
def served(
    pg_server: DatabaseHandle, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    url = asyncio.run(fresh_database(pg_server.url, template_db))
    data_dir = tmp_path_factory.mktemp("ws-messages")
    with running_server(url, data_dir) as base:
        yield base, data_dir / "serve.log"


async def opened(base: str, protocol: str) -> ClientConnection:
    ws = await connect(base.replace("http", "ws") + "/graphql", subprotocols=[protocol])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    return ws


async def answer_to(base: str, protocol: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    """What the server sends back for one operation message, up to its error or completion."""
    ws = await opened(base, protocol)
    try:
        await ws.send(json.dumps({"type": START[protocol], **message}))
        got: list[dict[str, Any]] = []
        while not got or got[-1]["type"] not in ("error", "complete"):
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        return got
    finally:
        await ws.close()


def error_of(protocol: str, answer: list[dict[str, Any]]) -> dict[str, Any]:
    [message] = answer
    assert message["type"] == "error", answer
    payload = message["payload"]
    if protocol == "graphql-transport-ws":
        [payload] = payload  # a list of GraphQL errors
    return dict(payload)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("subscription { changed { kind }", "GRAPHQL_PARSE_FAILED"),  # graphql-ws: nothing at all
        ("{ manufacturers { x", "GRAPHQL_PARSE_FAILED"),  # graphql-transport-ws: a bare complete
        (None, "BAD_USER_INPUT"),  # no query: a masked INTERNAL error
    ],
    ids=["subscription", "query", "no-query"],
)
async def test_a_document_that_cannot_run_is_refused_with_its_code(
    served: tuple[str, Path], protocol: str, query: str | None, code: str
) -> None:
    base, log = served
    payload = {"query": query} if query is not None else {"variables": {}}
    error = error_of(protocol, await answer_to(base, protocol, {"id": "1", "payload": payload}))
    assert error["extensions"]["code"] == code, error
    assert "Traceback" not in log.read_text()


async def test_a_query_over_the_legacy_protocol_is_refused_as_such(served: tuple[str, Path]) -> None:
    base, log = served
    answer = await answer_to(base, "graphql-ws", {"id": "1", "payload": {"query": "{ __typename }"}})
    error = error_of("graphql-ws", answer)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "graphql-transport-ws" in error["message"]
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("message", [{"id": "4", "payload": "x"}, {"payload": {"query": "{ __typename }"}}])
async def test_a_malformed_operation_message_closes_a_transport_ws_connection_with_4400(
    served: tuple[str, Path], message: dict[str, Any]
) -> None:
    """The protocol's answer to an invalid message; the payload 'x' escaped the app as a TypeError (1006)."""
    base, log = served
    ws = await opened(base, "graphql-transport-ws")
    await ws.send(json.dumps({"type": "subscribe", **message}))
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert "Traceback" not in log.read_text()


async def test_a_malformed_start_gets_an_error_over_the_legacy_protocol(served: tuple[str, Path]) -> None:
    base, log = served
    error = error_of("graphql-ws", await answer_to(base, "graphql-ws", {"id": "4", "payload": "x"}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    ws = await opened(base, "graphql-ws")  # without an id there is no operation to answer: closed
    await ws.send(json.dumps({"type": "start", "payload": {"query": "{ __typename }"}}))
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert "Traceback" not in log.read_text()
