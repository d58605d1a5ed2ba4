"""The endpoint's fast lane and the schema's lane for known operations answer exactly as strawberry's view
and pipeline: one corpus to two real servers, both lanes on and both off."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import shutil
import tempfile
import threading
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


class CuttableProxy:
    """The database's Unix socket, relayed through one of ours that the test can cut: every relayed
    connection is closed and new ones are refused, as when the database goes away."""

    def __init__(self, url: str, directory: Path) -> None:
        head, _, query = url.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&") if part)
        self.target = str(Path(params["host"]) / f".s.PGSQL.{params.get('port', '5432')}")
        self.url = f"{head}?" + "&".join(f"{k}={directory if k == 'host' else v}" for k, v in params.items())
        self.path = str(directory / Path(self.target).name)
        self.cut = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_unix_server(self._relay, path=self.path))
        self.ready.set()
        self.loop.run_forever()
        server.close()
        for writer in self.writers:
            writer.transport.abort()
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.target)
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def cut_off(self) -> None:
        def cut() -> None:
            self.cut = True
            for writer in self.writers:
                writer.transport.abort()

        self.loop.call_soon_threadsafe(cut)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclasses.dataclass(frozen=True)
class Pair:
    on: str
    off: str
    reader: str
    database: CuttableProxy


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
    """Two servers on one database, the lanes on and off; started one after the other (they share the
    development issuer's key, which the first creates)."""
    data_dir: Path = tmp_path_factory.mktemp("lane")
    relay = Path(tempfile.mkdtemp(prefix="fir-lane-"))  # short: a socket path has about 100 bytes
    database = CuttableProxy(lane_db, relay)
    public = "http://127.0.0.1:9"  # both servers' development issuer: one `iss`, so one token serves both
    env = {"FIR_DEV_AUTH": "1", "FIR_PUBLIC_URL": public, "FIR_CACHE": request.param, **CAPS}
    try:
        with (
            running_server(database.url, data_dir, FIR_FAST_LANE="1", **env) as on,
            running_server(database.url, data_dir, FIR_FAST_LANE="0", FIR_OPERATION_LANE="0", **env) as off,
        ):
            settings = dataclasses.replace(
                load_settings(None), data_dir=data_dir, public_url=public, dev_auth=True
            )
            yield Pair(on, off, DevIssuer(settings).mint("fir:read", None, "lane-reader"), database)
    finally:
        database.close()
        shutil.rmtree(relay, ignore_errors=True)


def answer(client: httpx.Client, case: Case) -> tuple[int, list[tuple[str, str]], bytes]:
    method, arguments = case
    response = client.request(method, "/graphql", **arguments)
    headers = [(k.lower(), v) for k, v in response.headers.multi_items() if k.lower() not in VOLATILE]
    return response.status_code, headers, response.content


def test_the_lane_answers_every_request_as_the_view_does(servers: Pair) -> None:
    """Status, every header (in order) and the body, byte for byte, twice each (a cache miss, then a hit;
    a document seen for the first time, then a known one)."""
    cases = corpus(servers.reader)
    differing = []
    lanes_seen = {200: 0, 400: 0}
    taken_before = {side: lane_count(url) for side, url in (("on", servers.on), ("off", servers.off))}
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
    # the two servers really answered by different paths: the lane took most of these on one only
    assert lane_count(servers.on) - taken_before["on"] > 100
    assert lane_count(servers.off) == taken_before["off"] == 0


def lane_count(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=20).text
    line = next((x for x in text.splitlines() if x.startswith("fir_fast_lane_requests_total ")), None)
    return float(line.split()[-1]) if line else 0.0


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


def test_with_the_database_gone_the_lane_answers_503_as_the_view_does(servers: Pair) -> None:
    """Last in the module: the database is cut off from both servers for good."""
    servers.database.cut_off()
    cases = [c for c in corpus(servers.reader) if c[0].startswith(("device", "typename", "mutation"))]
    differing, unavailable = [], 0
    with (
        httpx.Client(base_url=servers.on, timeout=30) as on,
        httpx.Client(base_url=servers.off, timeout=30) as off,
    ):
        for name, case in cases:
            fast, slow = answer(on, case), answer(off, case)
            if fast != slow:
                differing.append((name, fast, slow))
            unavailable += fast[0] == 503 and ("retry-after", "1") in fast[1]
    assert not differing, differing[:3]
    assert unavailable >= 6  # every device query, under each Accept
