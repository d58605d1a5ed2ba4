"""The change feed across replicas: a client disconnects, changes land through another `fir serve`, it resumes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from resolvers.change_feed import position_of
from tests.builders import building
from tests.e2e.server import running_server

CHANGED = """subscription($after: String) { changed(after: $after, kinds: [CONTACTS_CHANGED]) {
  cursor kind manufacturerId
} }"""
CONTACTS = """mutation($name: String!) {
  setContacts(manufacturerId: "106C", contacts: [{role: FIRMWARE, name: $name}]) { name }
}"""


@dataclasses.dataclass(frozen=True)
class Replica:
    base: str
    issuer: DevIssuer


@pytest.fixture
async def maker_db(db_url: str) -> str:
    async with building(db_url) as b:
        await b.manufacturer("106C")
    return db_url


@pytest.fixture
def replicas(maker_db: str, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    """Two `fir serve` processes on one database; each signs its own tokens (its own issuer URL)."""
    with ExitStack() as stack:
        found = []
        for _ in range(2):
            base = stack.enter_context(running_server(maker_db, tmp_path, FIR_DEV_AUTH="1"))
            port = int(base.rsplit(":", 1)[1])
            settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, port=port, dev_auth=True)
            found.append(Replica(base, DevIssuer(settings)))
        yield found[0], found[1]


async def subscribe(replica: Replica, after: str | None) -> ClientConnection:
    ws = await connect(replica.base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])
    token = replica.issuer.mint("fir:read", None, "portal")
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert (await receive(ws))["type"] == "connection_ack"
    payload = {"query": CHANGED, "variables": {"after": after}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 15)))


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    message = await receive(ws)
    assert message["type"] == "next", message
    event: dict[str, Any] = message["payload"]["data"]["changed"]
    return event


async def change_contacts(replica: Replica, names: list[str]) -> None:
    token = replica.issuer.mint("fir:publish", ["106C"], "maker")
    async with httpx.AsyncClient(base_url=replica.base, timeout=10) as client:
        for name in names:
            reply = await client.post(
                "/graphql",
                json={"query": CONTACTS, "variables": {"name": name}},
                headers={"authorization": f"Bearer {token}"},
            )
            assert reply.json().get("errors") is None, reply.json()


async def positions(db_url: str) -> list[int]:
    conn = await asyncpg.connect(db_url)
    try:
        return [
            r["position"] for r in await conn.fetch("select position from change_events order by position")
        ]
    finally:
        await conn.close()


async def test_a_client_resumes_from_its_cursor_across_replicas(
    replicas: tuple[Replica, Replica], maker_db: str
) -> None:
    portal_side, other = replicas
    ws = await subscribe(portal_side, None)
    await asyncio.sleep(0.3)  # subscribed (and caught up on nothing) before the first change
    await change_contacts(other, ["Desk 1"])
    first = await next_event(ws)  # live, from the other replica, through LISTEN
    assert first["kind"] == "CONTACTS_CHANGED" and first["manufacturerId"] == "106C"
    await ws.close()

    # while the portal is away, three changes through the other replica
    await change_contacts(other, ["Desk 2", "Desk 3", "Desk 4"])
    ws = await subscribe(portal_side, first["cursor"])
    try:
        missed = [await next_event(ws) for _ in range(3)]
        await change_contacts(other, ["Desk 5"])  # and one after the switch to live
        live = await next_event(ws)
        cursors = [e["cursor"] for e in [first, *missed, live]]
        assert len(set(cursors)) == 5  # no duplicate
        # exactly the feed, in order: the cursors are the events' positions 1..5
        assert await positions(maker_db) == [1, 2, 3, 4, 5]
        assert [position_of(c) for c in cursors] == [1, 2, 3, 4, 5]
        with pytest.raises(TimeoutError):  # nothing more, none twice
            await asyncio.wait_for(ws.recv(), 1)
    finally:
        await ws.close()
