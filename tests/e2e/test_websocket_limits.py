"""WebSocket caps over a real server: connections per caller (close 4429), subscriptions per connection."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.e2e.server import running_server

SUBSCRIBE = 'subscription { firmwareReleased(manufacturerIds: ["106c"]) { version } }'


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[tuple[str, DevIssuer]]:
    env = {
        "FIR_DEV_AUTH": "1",
        "FIR_WS_MAX_CONNECTIONS": "2",
        "FIR_WS_MAX_SUBSCRIPTIONS": "2",
        "FIR_WS_INIT_TIMEOUT": "2",
        "FIR_OIDC_LEEWAY": "0",  # a token's exp is when its connections end
    }
    with running_server(db_url, tmp_path, **env) as base:
        port = int(base.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, port=port, dev_auth=True)
        yield base, DevIssuer(settings)


async def session(base: str, token: str | None = None) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    try:
        return ws, json.loads(await asyncio.wait_for(ws.recv(), 10))
    except ConnectionClosed:
        return ws, {}


async def test_connections_per_caller_are_capped(server: tuple[str, DevIssuer]) -> None:
    base, issuer = server
    first, ack1 = await session(base)
    second, ack2 = await session(base)
    assert ack1["type"] == ack2["type"] == "connection_ack"
    third, _ = await session(base)
    await third.wait_closed()
    assert third.close_code == 4429 and "2 connections" in (third.close_reason or "")
    # another caller has its own allowance
    reader, ack = await session(base, issuer.mint("fir:read", None, "ws-cap-reader"))
    assert ack["type"] == "connection_ack"
    # a closed connection gives its slot back
    await first.close()
    await asyncio.sleep(0.3)
    again, ack = await session(base)
    assert ack["type"] == "connection_ack"
    for ws in (second, reader, again):
        await ws.close()


async def test_subscriptions_per_connection_are_capped(server: tuple[str, DevIssuer]) -> None:
    base, issuer = server
    ws, ack = await session(base, issuer.mint("fir:read", None, "ws-cap-subscriber"))
    assert ack["type"] == "connection_ack"
    for op in ("1", "2", "3"):
        await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert refusal["id"] == "3" and refusal["type"] == "error"
    assert refusal["payload"][0]["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": 2}
    # the connection stays usable: ending one subscription makes room for another
    await ws.send(json.dumps({"id": "1", "type": "complete"}))
    await asyncio.sleep(0.3)
    await ws.send(json.dumps({"id": "4", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    await ws.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong"
    await ws.close()


async def test_messages_are_held_to_the_callers_body_cap(server: tuple[str, DevIssuer]) -> None:
    """The HTTP body caps hold on a WebSocket too: 128 KiB until connection_init authenticates the
    connection, then its caller's (32 MiB for a token holder); over it, close 1009 before decoding."""
    base, issuer = server
    url = base.replace("http", "ws") + "/graphql"
    padding = " " * (200 * 1024)  # JSON whitespace: a valid message, over the anonymous cap
    ws = await connect(url, subprotocols=["graphql-transport-ws"])
    await ws.send('{"type": "connection_init",' + padding + '"payload": {}}')
    await asyncio.wait_for(ws.wait_closed(), 10)
    assert ws.close_code == 1009 and "131072 characters" in (ws.close_reason or "")
    anonymous, ack = await session(base)
    assert ack["type"] == "connection_ack"
    await anonymous.send('{"type": "ping",' + padding + '"payload": {}}')
    await asyncio.wait_for(anonymous.wait_closed(), 10)
    assert anonymous.close_code == 1009
    reader, ack = await session(base, issuer.mint("fir:read", None, "ws-big-reader"))
    assert ack["type"] == "connection_ack"
    await reader.send('{"type": "ping",' + padding + '"payload": {}}')
    assert json.loads(await asyncio.wait_for(reader.recv(), 10))["type"] == "pong"
    await reader.close()


async def test_a_connection_ends_when_its_token_expires(server: tuple[str, DevIssuer]) -> None:
    """HTTP refuses an expired token at once; a WebSocket authenticated before must not outlive it:
    a running subscription ends with 4403 at the token's exp, and the connection with it."""
    base, issuer = server
    ws, ack = await session(base, issuer.mint("fir:read", None, "ws-short-lived", ttl=3))
    assert ack["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    await ws.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong"  # alive before exp
    await asyncio.wait_for(ws.wait_closed(), 15)
    assert ws.close_code == 4403 and ws.close_reason == "the token has expired"
    # a token that lives on keeps its connection
    lasting, ack = await session(base, issuer.mint("fir:read", None, "ws-long-lived"))
    await asyncio.sleep(0.5)
    await lasting.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(lasting.recv(), 10))["type"] == "pong"
    await lasting.close()


async def test_a_legacy_connection_initialises_once(server: tuple[str, DevIssuer]) -> None:
    """graphql-ws took a connection slot at each connection_init and gave back only the last: twice
    initialised as a token and again anonymously, its subject was locked out until the worker restarted."""
    base, issuer = server
    token = issuer.mint("fir:read", None, "ws-reinit")
    url = base.replace("http", "ws") + "/graphql"
    for _ in range(2):
        async with connect(url, subprotocols=["graphql-ws"]) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            )
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
    await asyncio.sleep(0.3)
    fresh, ack = await session(base, token)
    await fresh.close()
    assert ack.get("type") == "connection_ack"


@pytest.mark.parametrize("protocol", ["graphql-ws", "graphql-transport-ws"])
async def test_a_connection_that_never_initialises_is_closed(
    server: tuple[str, DevIssuer], protocol: str
) -> None:
    """Counted against a caller only once initialised, legacy connections that never sent
    connection_init stayed open for good; both protocols close them after FIR_WS_INIT_TIMEOUT."""
    base, _ = server
    async with connect(base.replace("http", "ws") + "/graphql", subprotocols=[protocol]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 15)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
