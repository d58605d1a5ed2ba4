"""The response cache across two real `fir serve` processes on one database: hits, and no stale answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.server import running_server
from tests.e2e.test_dev_auth import mint
from tests.e2e.test_http import DEVICE, IDENT, seeded  # noqa: F401  (fixture)

NAME = '{ manufacturer(manufacturerId: "106C") { name } }'


@pytest.fixture
def servers(seeded: str, tmp_path: Path) -> Iterator[tuple[str, str]]:  # noqa: F811
    with (
        running_server(seeded, tmp_path / "a", FIR_DEV_AUTH="1") as a,
        running_server(seeded, tmp_path / "b") as b,
    ):
        yield a, b


def name_on(client: httpx.Client) -> tuple[str, str]:
    response = client.post("/graphql", json={"query": NAME})
    assert response.status_code == 200, response.text
    return response.json()["data"]["manufacturer"]["name"], response.headers["x-fir-cache"]


def poll_until_new(client: httpx.Client, new: str, seconds: float = 2.0) -> None:
    """The notification takes a moment to arrive: poll for it, then never accept the old answer again."""
    deadline = time.monotonic() + seconds
    while name_on(client)[0] != new:
        assert time.monotonic() < deadline, "the write was not seen within the deadline"
        time.sleep(0.02)
    for _ in range(5):
        assert name_on(client)[0] == new


async def test_a_direct_sql_write_reaches_both_processes(servers: tuple[str, str], seeded: str) -> None:  # noqa: F811
    clients = [httpx.Client(base_url=base, timeout=10) for base in servers]
    try:
        for client in clients:
            old, first = name_on(client)
            assert (name_on(client), first) == ((old, "hit"), "miss")
            get = client.get("/graphql", params={"query": NAME})
            assert get.headers["x-fir-cache"] == "hit"  # a GET of the same document shares the entry
        conn = await asyncpg.connect(seeded)
        try:
            await conn.execute(
                "update manufacturers set name = 'Renamed Meters' where manufacturer_id = '106C'"
            )
        finally:
            await conn.close()
        for client in clients:
            poll_until_new(client, "Renamed Meters")
            assert name_on(client) == ("Renamed Meters", "hit")
    finally:
        for client in clients:
            client.close()


def test_anonymous_and_reader_do_not_share_answers(servers: tuple[str, str], tmp_path: Path) -> None:
    base = servers[0]
    reader = mint(tmp_path / "a", {"FIR_PORT": base.rsplit(":", 1)[1]}, "fir:read")
    request = {"query": DEVICE, "variables": {"id": IDENT}}
    with httpx.Client(base_url=base, timeout=10) as client:
        for expected in ("miss", "hit"):
            anonymous = client.post("/graphql", json=request)
            assert anonymous.headers["x-fir-cache"] == expected
            assert {e["extensions"]["code"] for e in anonymous.json()["errors"]} == {"FORBIDDEN"}
        for expected in ("miss", "hit"):
            read = client.post("/graphql", json=request, headers={"authorization": f"Bearer {reader}"})
            assert read.headers["x-fir-cache"] == expected
            body = read.json()
            assert "errors" not in body, body
            assert [r["version"] for r in body["data"]["device"]["lineage"]] == ["00000001", "00000002"]
        mutation = client.post(
            "/graphql", json={"query": 'mutation { removeCplEntry(number: 1, reason: "x") { number } }'}
        )
        assert "x-fir-cache" not in mutation.headers


def test_fir_cache_0_turns_it_off(seeded: str, tmp_path: Path) -> None:  # noqa: F811
    with (
        running_server(seeded, tmp_path, FIR_CACHE="0") as base,
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        for _ in range(2):
            response = client.post("/graphql", json={"query": NAME})
            assert response.status_code == 200 and "x-fir-cache" not in response.headers
