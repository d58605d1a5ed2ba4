"""GraphQL over HTTP against a real `fir serve`: the graphql-http audit, media types, status codes, caps."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from resolvers.context import InputCapsByPrincipal
from tests.builders import building
from tests.conftest import fresh_database
from tests.e2e.server import running_server

PEERS = Path(__file__).resolve().parents[1] / "peers"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Small caps, so that a test can cross them cheaply: anonymous, authenticated, admin.
CAPS = {
    "FIR_MAX_BODY_BYTES_ANONYMOUS": "4000",
    "FIR_MAX_BODY_BYTES_AUTHENTICATED": "20000",
    "FIR_MAX_LIST_ITEMS_ANONYMOUS": "10",
    "FIR_MAX_LIST_ITEMS_AUTHENTICATED": "100",
    "FIR_MAX_ENTITIES_ANONYMOUS": "3",
}
FLEET = "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total invalid } }"
DEVICE = {
    "manufacturerId": "106C",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000001",
}


@dataclasses.dataclass(frozen=True)
class Server:
    base: str
    reader: str

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, timeout=20, headers=headers)


@pytest.fixture(scope="module")
async def http_db(pg_server: Any, template_db: str) -> str:
    url = await fresh_database(pg_server.url, template_db)
    async with building(url) as b:
        await b.chain("00000001")
    return url


@pytest.fixture(scope="module")
def server(http_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("http")
    # the audit asks `__type` anonymously: introspection open to all, as `make run` has it
    with running_server(http_db, data_dir, FIR_DEV_AUTH="1", FIR_INTROSPECTION="all", **CAPS) as base:
        settings = dataclasses.replace(
            load_settings(None), data_dir=data_dir, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        yield Server(base, DevIssuer(settings).mint("fir:read", None, "http-reader"))


def codes(response: httpx.Response) -> set[str]:
    return {e["extensions"]["code"] for e in response.json()["errors"]}


@pytest.mark.peers
def test_graphql_http_reference_audit(server: Server) -> None:
    """graphql-http's auditServer, every audit it has: 0 errors, 0 warnings (notices are MAYs)."""
    if shutil.which("node") is None or not (PEERS / "node_modules" / "graphql-http").exists():
        pytest.fail("test peers missing: run `make peers` (needs Node.js)")
    run = subprocess.run(
        ["node", "graphql_http_audit.mjs", f"{server.base}/graphql"],
        cwd=PEERS,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(run.stdout)
    for r in results:
        print(f"{r['id']} {r['status']:6} {r['name']}" + (f" ({r['reason']})" if "reason" in r else ""))
    failed = [r for r in results if r["status"] in ("error", "warn")]
    assert len(results) >= 60 and not failed, failed


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ cplEntry(number: 1) { number }", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { cplEntry(number: $n) { number } }", {"n": "one"}, "BAD_USER_INPUT"),
        ("query($n: Int!) { cplEntry(number: $n) { number } }", {"n": 2**40}, "BAD_USER_INPUT"),
    ],
)
def test_request_errors_by_media_type(
    server: Server, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    """application/graphql-response+json: 400 and no data; application/json: 200 with data null."""
    with server.client() as client:
        body = {"query": query, "variables": variables}
        new = client.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
        assert new.status_code == 400 and new.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert "data" not in new.json() and codes(new) == {code}
        old = client.post("/graphql", json=body, headers={"accept": "application/json"})
        assert old.status_code == 200 and old.headers["content-type"] == "application/json"
        assert old.json()["data"] is None and codes(old) == {code}


def test_success_and_cache_hits_keep_the_negotiated_media_type(server: Server) -> None:
    query = {"query": "{ cplEntries(first: 1) { edges { node { number } } } }"}
    with server.client() as client:
        for accept in (GRAPHQL_RESPONSE, "application/json", f"application/json, {GRAPHQL_RESPONSE}"):
            for _ in range(2):  # a miss, then a hit
                answer = client.post("/graphql", json=query, headers={"accept": accept})
                media = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"
                assert answer.status_code == 200 and answer.headers["content-type"].startswith(media)
                assert answer.json()["data"]["cplEntries"]["edges"]
            assert answer.headers["x-fir-cache"] == "hit"


@pytest.mark.parametrize("body", [b"null", b"123", b'"x"', b"[]", b"true", b"{", b'{"query": 5}'])
def test_a_body_that_is_not_a_request_is_a_400(server: Server, body: bytes) -> None:
    with server.client() as client:
        for accept in (GRAPHQL_RESPONSE, "application/json"):
            answer = client.post(
                "/graphql", content=body, headers={"content-type": "application/json", "accept": accept}
            )
            assert answer.status_code == 400 and codes(answer) == {"BAD_USER_INPUT"}


def test_operations_http_does_not_serve(server: Server) -> None:
    subscription = "subscription { firmwareReleased { id } }"
    with server.client() as client:
        for answer in (
            client.post("/graphql", json={"query": subscription}),
            client.get("/graphql", params={"query": subscription}),
        ):
            assert answer.status_code == 400 and codes(answer) == {"GRAPHQL_VALIDATION_FAILED"}
            assert "WebSocket" in answer.json()["errors"][0]["message"]
        mutation = client.get(
            "/graphql", params={"query": 'mutation { removeCplEntry(number: 1, reason: "x") { number } }'}
        )
        assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"
        two = client.post("/graphql", json={"query": "query A { __typename } query B { __typename }"})
        assert codes(two) == {"GRAPHQL_VALIDATION_FAILED"} and two.json()["data"] is None
        named = client.post(
            "/graphql", json={"query": "query A { __typename } query B { __typename }", "operationName": "B"}
        )
        assert named.json() == {"data": {"__typename": "Query"}}


def test_body_cap_by_principal_declared_and_while_reading(server: Server) -> None:
    big = orjson.dumps({"query": FLEET, "variables": {"d": [DEVICE] * 60}})
    assert 4000 < len(big) < 20000
    with server.client() as anonymous:
        declared = anonymous.post("/graphql", content=big, headers={"content-type": "application/json"})
        assert declared.status_code == 413 and codes(declared) == {"BAD_USER_INPUT"}
        assert declared.json()["errors"][0]["extensions"]["limit"] == 4000

        def chunks() -> Iterator[bytes]:  # no Content-Length: the count is kept on what arrives
            yield from (big[i : i + 1000] for i in range(0, len(big), 1000))

        streamed = anonymous.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert anonymous.get("/graphql", params={"query": "{ __typename }" + " " * 5000}).status_code == 413
    with server.client(server.reader) as reader:
        ok = reader.post("/graphql", content=big, headers={"content-type": "application/json"})
        assert ok.status_code == 200 and ok.json()["data"]["fleetStatus"]["total"] == 60


def test_list_and_entity_caps_by_principal(server: Server) -> None:
    eleven = {"query": FLEET, "variables": {"d": [DEVICE] * 11}}
    entities = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    four = {
        "query": entities,
        "variables": {"r": [{"__typename": "Manufacturer", "manufacturerId": "106C"}] * 4},
    }
    with server.client() as anonymous:
        refused = anonymous.post("/graphql", json=eleven, headers={"accept": GRAPHQL_RESPONSE})
        assert refused.status_code == 400 and "data" not in refused.json()
        [error] = refused.json()["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "d", "limit": 10}
        [error] = anonymous.post("/graphql", json=four).json()["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "representations", "limit": 3}
    with server.client(server.reader) as reader:
        assert reader.post("/graphql", json=eleven).json()["data"]["fleetStatus"]["total"] == 11
        assert len(reader.post("/graphql", json=four).json()["data"]["_entities"]) == 4


def test_default_authenticated_body_cap_fits_a_100000_device_fleet() -> None:
    devices = [{"ref": f"meter-{i:07d}", **DEVICE} for i in range(100_000)]
    body = orjson.dumps({"query": FLEET, "variables": {"d": devices}})
    caps = InputCapsByPrincipal()
    assert caps.anonymous.body_bytes < len(body) < caps.authenticated.body_bytes
    assert caps.authenticated.list_items >= 100_000
    settings = load_settings(None)
    assert settings.max_body_bytes == (
        caps.anonymous.body_bytes,
        caps.authenticated.body_bytes,
        caps.admin.body_bytes,
    )
