"""The token issuer unreachable, through a real server: a token that cannot be checked is 503 with
Retry-After (and WebSocket close 1013), never a 401 that tells a client its good token is bad."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import running_server
from tests.e2e.test_http import DEVICE, IDENT, seeded  # noqa: F401  (fixture)
from tests.gateway.issuer import AUDIENCE, LocalIssuer, new_key, running_issuer

BODY = {"query": DEVICE, "variables": {"id": IDENT}}


@pytest.fixture
def outage(seeded: str, tmp_path: Path) -> Iterator[tuple[str, LocalIssuer]]:  # noqa: F811
    """A gateway started while its issuer answers 503 to discovery and JWKS alike."""
    with running_issuer() as issuer:
        issuer.down = True
        env = {"FIR_OIDC_ISSUER": issuer.url, "FIR_OIDC_AUDIENCE": AUDIENCE, "FIR_JWKS_MIN_REFRESH": "0.5"}
        with running_server(seeded, tmp_path, **env) as base:
            yield base, issuer


def ask(client: httpx.Client, token: str) -> httpx.Response:
    return client.post("/graphql", json=BODY, headers={"authorization": f"Bearer {token}"})


def until_answered(client: httpx.Client, token: str) -> httpx.Response:
    """The first answer that is not a 503: the gateway refetches at most every FIR_JWKS_MIN_REFRESH."""
    deadline = time.monotonic() + 10
    while True:
        answer = ask(client, token)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "1"
    assert "www-authenticate" not in answer.headers
    assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["SERVICE_UNAVAILABLE"]


def test_no_keys_yet_is_503_then_the_same_token_answers(outage: tuple[str, LocalIssuer]) -> None:
    base, issuer = outage
    token = issuer.token()
    with httpx.Client(base_url=base, timeout=10) as client:
        assert_unavailable(ask(client, token))
        assert "cannot be fetched" in ask(client, token).json()["errors"][0]["message"]
        # a token that is bad whatever the keys is still refused as bad
        malformed = ask(client, "not.a.token")
        assert malformed.status_code == 401 and "invalid_token" in malformed.headers["www-authenticate"]
        # anonymous callers still get the public CPL, and the gateway stays ready
        assert client.post("/graphql", json=BODY).json()["data"]["device"]["onCpl"] is True
        assert client.get("/readyz").status_code == 200
        issuer.down = False
        answer = until_answered(client, token)
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text


def test_a_key_new_during_the_outage_is_503_and_held_keys_still_verify(
    outage: tuple[str, LocalIssuer],
) -> None:
    base, issuer = outage
    with httpx.Client(base_url=base, timeout=10) as client:
        issuer.down = False
        assert until_answered(client, issuer.token()).status_code == 200
        rotated = new_key("RSA")
        issuer.keys.append(rotated)
        issuer.down = True
        time.sleep(0.6)  # past FIR_JWKS_MIN_REFRESH: the new kid makes the gateway try, and fail
        assert_unavailable(ask(client, issuer.token(key=rotated)))
        assert ask(client, issuer.token()).status_code == 200  # the last good key set still serves
        issuer.down = False
        assert until_answered(client, issuer.token(key=rotated)).status_code == 200
        # with the issuer reachable, a kid it does not publish is a bad token again
        stranger = issuer.token(key=new_key("RSA"))
        time.sleep(0.6)
        refused = ask(client, stranger)
        assert refused.status_code == 401 and "unknown key" in refused.json()["errors"][0]["message"]


async def test_websocket_connection_init_closes_with_try_again_later(
    outage: tuple[str, LocalIssuer],
) -> None:
    base, issuer = outage
    async with connect(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        payload = {"Authorization": f"Bearer {issuer.token()}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        1013,
        "token issuer unreachable: retry shortly",
    )
