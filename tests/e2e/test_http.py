"""The real server over HTTP: device query by POST and GET, no GraphiQL by default, health, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.builders import building
from tests.e2e.server import running_server

DEVICE = """query($id: DeviceIdentityInput!) { device(identity: $id) {
  onCpl isLatest cplEntry { number } latest { version } upgradePath { version } lineage { version }
} }"""
IDENT = {
    "manufacturerId": "106c",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000001",
}


@pytest.fixture
async def seeded(db_url: str) -> str:
    async with building(db_url) as b:
        await b.chain("00000001", "00000002")
    return db_url


@pytest.fixture
def server(seeded: str, tmp_path: Path) -> Iterator[str]:
    with running_server(seeded, tmp_path) as base:
        yield base


def test_device_query_over_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        post = client.post("/graphql", json={"query": DEVICE, "variables": {"id": IDENT}})
        assert post.status_code == 200
        body = post.json()
        assert body["data"]["device"]["onCpl"] is True
        assert body["data"]["device"]["cplEntry"]["number"] > 0
        # anonymous: the FIR fields are FORBIDDEN, the CPL part answers
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}

        get = client.get(
            "/graphql", params={"query": "{ cplEntries(first: 1) { edges { node { number } } } }"}
        )
        assert get.status_code == 200 and get.json()["data"]["cplEntries"]["edges"]

        ide = client.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 404  # GraphiQL is off unless FIR_GRAPHIQL (tests/e2e/test_graphiql.py)

        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["database"] == "ok"
        metrics = client.get("/metrics").text
        assert 'fir_http_requests_total{method="POST",route="/graphql",status="200"}' in metrics
        # the lifespan runs gateway.runtime: its loop-lag probe has fired since start-up
        lag = re.search(r"^fir_event_loop_lag_seconds_count (\S+)$", metrics, re.MULTILINE)
        assert lag is not None and float(lag[1]) >= 1


def test_errors_are_stable_and_never_500(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        bad = client.post(
            "/graphql", json={"query": DEVICE, "variables": {"id": {**IDENT, "modelId": "XYZ"}}}
        )
        assert bad.status_code == 200
        [error] = bad.json()["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "identity.modelId"}

        syntax = client.post("/graphql", json={"query": "{ device("})
        assert syntax.status_code in (200, 400)
        assert syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"

        token = client.post(
            "/graphql",
            json={"query": "{ cplEntry(number: 1) { number } }"},
            headers={"authorization": "Bearer not-a-token"},
        )
        assert token.status_code == 401
        assert token.headers["www-authenticate"].startswith("Bearer ")
        assert token.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
