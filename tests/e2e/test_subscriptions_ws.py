"""Subscriptions over a real WebSocket: token checked at connection_init, scope rules applied."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.builders import building, image_hash
from tests.e2e.server import running_server

SUBSCRIBE = 'subscription { firmwareReleased(manufacturerIds: ["106c"]) { version status } }'
SUBMIT = (
    """mutation($input: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $input) { status } }"""
)


@pytest.fixture
async def model_db(db_url: str) -> str:
    async with building(db_url) as b:
        await b.chain("00000001")
        await b.entry("106C", "4331", "00AC", "00000002")  # listed, waiting for its FIR record
    return db_url


@pytest.fixture
def server(model_db: str, tmp_path: Path) -> Iterator[tuple[str, DevIssuer]]:
    with running_server(model_db, tmp_path, FIR_DEV_AUTH="1") as base:
        port = int(base.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, port=port, dev_auth=True)
        yield base, DevIssuer(settings)


async def open_session(base: str, token: str | None) -> ClientConnection:
    ws = await connect(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))


async def test_reader_receives_published_release(server: tuple[str, DevIssuer]) -> None:
    base, issuer = server
    ws = await open_session(base, issuer.mint("fir:read", None, "ws-reader"))
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.3)  # the subscription is registered before the publish below
        maker = issuer.mint("fir:publish", ["106C"], "ws-maker")
        submission = {
            "manufacturerId": "106C",
            "modelId": "4331",
            "hardwareVersion": "00AC",
            "firmwareVersion": "00000002",
            "imageHash": image_hash("106C433100AC00000002"),
            "releaseDate": "2021-01-01",
            "upgradableFrom": ["00000001"],
        }
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            published = await client.post(
                "/graphql",
                json={"query": SUBMIT, "variables": {"input": submission}},
                headers={"authorization": f"Bearer {maker}"},
            )
        assert published.json()["data"]["submitFirmwareRelease"]["status"] == "PUBLISHED", published.json()
        event = await next_message(ws)
        assert event["type"] == "next"
        assert event["payload"]["data"]["firmwareReleased"] == {"version": "00000002", "status": "PUBLISHED"}
    finally:
        await ws.close()


async def test_anonymous_subscription_is_forbidden(server: tuple[str, DevIssuer]) -> None:
    base, _ = server
    ws = await open_session(base, None)
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        reply = await next_message(ws)
        codes = (
            {e["extensions"]["code"] for e in reply["payload"]}
            if reply["type"] == "error"
            else {e["extensions"]["code"] for e in reply["payload"]["errors"]}
        )
        assert codes == {"FORBIDDEN"}
    finally:
        await ws.close()


async def test_bad_token_is_rejected_at_connection_init(server: tuple[str, DevIssuer]) -> None:
    base, _ = server
    ws = await open_session(base, "not.a.token")
    with pytest.raises(ConnectionClosed) as closed:
        await next_message(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("value", [123, None, ["Bearer x"], {"token": "x"}])
@pytest.mark.parametrize("name", ["Authorization", "authorization"])
async def test_non_string_authorization_is_rejected(
    server: tuple[str, DevIssuer], name: str, value: object
) -> None:
    """Never read as "no token" (anonymous): the client meant to authenticate and got it wrong."""
    base, _ = server
    ws = await connect(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {name: value}}))
    with pytest.raises(ConnectionClosed) as closed:
        await next_message(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("field", ["query", "operationName"])
async def test_a_payload_field_that_is_not_a_string_is_bad_user_input(
    server: tuple[str, DevIssuer], field: str
) -> None:
    """As over HTTP: `operationName: 5` was a masked INTERNAL error, `query: 5` a silent complete."""
    base, issuer = server
    ws = await open_session(base, issuer.mint("fir:read", None, "ws-reader"))
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        payload: dict[str, Any] = {"query": SUBSCRIBE, field: 5}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        reply = await next_message(ws)
        assert reply["type"] == "error", reply
        assert [e["extensions"]["code"] for e in reply["payload"]] == ["BAD_USER_INPUT"]
    finally:
        await ws.close()
