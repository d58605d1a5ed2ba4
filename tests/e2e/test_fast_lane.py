"""The endpoint's fast lane answers exactly as strawberry's view: one corpus to two real servers, lane on and off."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.builders import building
from tests.conftest import fresh_database
from tests.e2e.server import running_server

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
DEVICE = "query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl cplEntry { number status } } }"
IDENTITY = {
    "manufacturerId": "106c",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000001",
}
FLEET = "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total invalid } }"
TWO = "query A { __typename } query B { cplEntries(first: 1) { edges { node { number } } } }"
REMOVE = 'mutation { removeCplEntry(number: 1, reason: "x") { number } }'
CAPS = {"FIR_MAX_BODY_BYTES_ANONYMOUS": "4000", "FIR_MAX_LIST_ITEMS_ANONYMOUS": "10"}
# Headers that differ between any two responses of the same server, lane or not.
VOLATILE = {"date"}

Case = tuple[str, dict[str, Any]]  # HTTP method, httpx request arguments


def post(body: object, accept: str | None = None, **headers: str) -> Case:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    sent = {"content-type": JSON, **({"accept": accept} if accept else {}), **headers}
    return "POST", {"content": content, "headers": sent}


def corpus(reader: str) -> list[tuple[str, Case]]:
    """Good requests, errors of every stage and refusals, under both media types, anonymous and reader."""
    device = {"query": DEVICE, "variables": {"id": IDENTITY}}
    auth = f"Bearer {reader}"
    cases: list[tuple[str, Case]] = []
    for accept in (None, JSON, GRAPHQL_RESPONSE, f"{JSON}, {GRAPHQL_RESPONSE}", "*/*", "text/html"):
        tag = f"accept={accept}"
        cases += [
            (f"typename {tag}", post({"query": "{ __typename }"}, accept)),
            (f"device anonymous {tag}", post(device, accept)),
            (f"device reader {tag}", post(device, accept, authorization=auth)),
            (f"parse error {tag}", post({"query": "{ cplEntry(number: 1) { number }"}, accept)),
            (f"validation error {tag}", post({"query": "{ nope }"}, accept)),
            (
                f"bad variable {tag}",
                post(
                    {
                        "query": "query($n: Int!) { cplEntry(number: $n) { number } }",
                        "variables": {"n": "one"},
                    },
                    accept,
                ),
            ),
            (f"missing variable {tag}", post({"query": DEVICE}, accept)),
            (f"bad JSON {tag}", post(b"{", accept)),
            (f"JSON array {tag}", post(b"[]", accept)),
            (f"JSON batch {tag}", post([{"query": "{ __typename }"}], accept)),
            (f"JSON string {tag}", post(b'"x"', accept)),
            (f"JSON null {tag}", post(b"null", accept)),
            (f"empty body {tag}", post(b"", accept)),
            (f"lone surrogate {tag}", post(b'{"query": "{ __typename }", "x": "\\ud800"}', accept)),
            (f"query a number {tag}", post({"query": 5}, accept)),
            (f"query null {tag}", post({"query": None}, accept)),
            (f"no query {tag}", post({}, accept)),
            (f"variables a string {tag}", post({"query": "{ __typename }", "variables": "x"}, accept)),
            (f"variables null {tag}", post({"query": "{ __typename }", "variables": None}, accept)),
            (f"extensions a list {tag}", post({"query": "{ __typename }", "extensions": []}, accept)),
            (f"extensions empty {tag}", post({"query": "{ __typename }", "extensions": {}}, accept)),
            (f"operationName a number {tag}", post({"query": "{ __typename }", "operationName": 1}, accept)),
            (f"two operations {tag}", post({"query": TWO}, accept)),
            (f"two operations named {tag}", post({"query": TWO, "operationName": "B"}, accept)),
            (f"unknown operation {tag}", post({"query": TWO, "operationName": "C"}, accept)),
            (f"other member {tag}", post({"query": "{ __typename }", "foo": 1}, accept)),
            (f"subscription {tag}", post({"query": "subscription { firmwareReleased { id } }"}, accept)),
            (f"mutation anonymous {tag}", post({"query": REMOVE}, accept)),
            (f"mutation reader {tag}", post({"query": REMOVE}, accept, authorization=auth)),
            (f"bad token {tag}", post({"query": "{ __typename }"}, accept, authorization="Bearer nope")),
            (f"document id unknown {tag}", post({"documentId": "sha256:" + "0" * 64}, accept)),
            (f"document id malformed {tag}", post({"documentId": "xyz"}, accept)),
            (
                f"persisted hash mismatch {tag}",
                post(
                    {
                        "query": "{ __typename }",
                        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "1" * 64}},
                    },
                    accept,
                ),
            ),
            (
                f"persisted hash of the query {tag}",
                post(
                    {
                        "query": "{ __typename }",
                        "extensions": {
                            "persistedQuery": {
                                "version": 1,
                                "sha256Hash": hashlib.sha256(b"{ __typename }").hexdigest(),
                            }
                        },
                    },
                    accept,
                ),
            ),
            (f"list cap {tag}", post({"query": FLEET, "variables": {"d": [IDENTITY] * 11}}, accept)),
            (f"body cap {tag}", post({"query": FLEET, "variables": {"d": [IDENTITY] * 60}}, accept)),
            (
                f"text/plain {tag}",
                post({"query": "{ __typename }"}, accept, **{"content-type": "text/plain"}),
            ),
            (
                f"json charset {tag}",
                post(
                    {"query": "{ __typename }"}, accept, **{"content-type": "application/json; charset=utf-8"}
                ),
            ),
            (
                f"json capitals {tag}",
                post({"query": "{ __typename }"}, accept, **{"content-type": "Application/JSON"}),
            ),
            (
                f"json suffix {tag}",
                post({"query": "{ __typename }"}, accept, **{"content-type": "application/jsonx"}),
            ),
            (
                f"graphql-response body type {tag}",
                post({"query": "{ __typename }"}, accept, **{"content-type": GRAPHQL_RESPONSE}),
            ),
            (f"multipart accept {tag}", post({"query": "{ __typename }"}, f"multipart/mixed, {accept}")),
            (
                f"GET query {tag}",
                ("GET", {"params": {"query": "{ __typename }"}, "headers": {"accept": accept or "*/*"}}),
            ),
            (
                f"GET mutation {tag}",
                ("GET", {"params": {"query": REMOVE}, "headers": {"accept": accept or "*/*"}}),
            ),
            (f"GET nothing {tag}", ("GET", {"headers": {"accept": accept or "*/*"}})),
        ]
    return cases


@dataclasses.dataclass(frozen=True)
class Pair:
    on: str
    off: str
    reader: str


@pytest.fixture(scope="module")
async def lane_db(pg_server: Any, template_db: str) -> str:
    url = await fresh_database(pg_server.url, template_db)
    async with building(url) as b:
        await b.chain("00000001", "00000002")
    return url


@pytest.fixture(scope="module", params=["0", "1"], ids=["cache off", "cache on"])
def servers(
    lane_db: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Pair]:
    """Two servers on one database, the lane on and off; started one after the other (they share the
    development issuer's key, which the first creates)."""
    data_dir: Path = tmp_path_factory.mktemp("lane")
    public = "http://127.0.0.1:9"  # both servers' development issuer: one `iss`, so one token serves both
    env = {"FIR_DEV_AUTH": "1", "FIR_PUBLIC_URL": public, "FIR_CACHE": request.param, **CAPS}
    with (
        running_server(lane_db, data_dir, FIR_FAST_LANE="1", **env) as on,
        running_server(lane_db, data_dir, FIR_FAST_LANE="0", **env) as off,
    ):
        settings = dataclasses.replace(
            load_settings(None), data_dir=data_dir, public_url=public, dev_auth=True
        )
        yield Pair(on, off, DevIssuer(settings).mint("fir:read", None, "lane-reader"))


def answer(client: httpx.Client, case: Case) -> tuple[int, list[tuple[str, str]], bytes]:
    method, arguments = case
    response = client.request(method, "/graphql", **arguments)
    headers = [(k.lower(), v) for k, v in response.headers.multi_items() if k.lower() not in VOLATILE]
    return response.status_code, headers, response.content


def test_the_lane_answers_every_request_as_the_view_does(servers: Pair) -> None:
    """Status, every header (in order) and the body, byte for byte, twice each (a cache miss, then a hit)."""
    cases = corpus(servers.reader)
    differing = []
    lanes_seen = {200: 0, 400: 0}
    with (
        httpx.Client(base_url=servers.on, timeout=20) as on,
        httpx.Client(base_url=servers.off, timeout=20) as off,
    ):
        for name, case in cases:
            for _ in range(2):
                fast, slow = answer(on, case), answer(off, case)
                if fast != slow:
                    differing.append((name, fast, slow))
                if fast[0] in lanes_seen:
                    lanes_seen[fast[0]] += 1
    assert not differing, differing[:3]
    assert len(cases) > 200 and lanes_seen[200] > 50 and lanes_seen[400] > 50


def test_metrics_count_the_lane_requests(servers: Pair) -> None:
    with httpx.Client(base_url=servers.on, timeout=20) as on:
        before = on.get("/metrics").text
        on.post("/graphql", json={"query": "{ __typename }"})
        after = on.get("/metrics").text
    line = 'fir_http_requests_total{method="POST",route="/graphql",status="200"}'
    count = [
        float(next(x for x in text.splitlines() if x.startswith(line)).split()[-1]) if line in text else 0.0
        for text in (before, after)
    ]
    assert count[1] == count[0] + 1
