"""A real `fir serve --workers 2`: a publish through one worker reaches the other; keys, metrics, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.builders import image_hash
from tests.e2e.server import serving
from tests.e2e.test_database_faults import postgres_of
from tests.e2e.test_shutdown import data_dir, wait_for  # noqa: F401  (fixture)
from tests.e2e.test_subscriptions_ws import SUBMIT, SUBSCRIBE, model_db, next_message  # noqa: F401

WORKERS = 2
LATEST = """{ device(identity: {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC",
  firmwareVersion: "00000001"}) { isLatest latest { version } } }"""
SUBMISSION = {
    "manufacturerId": "106C",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000002",
    "imageHash": image_hash("106C433100AC00000002"),
    "releaseDate": "2021-01-01",
    "upgradableFrom": ["00000001"],
}


@dataclasses.dataclass
class Server:
    base: str
    issuer: DevIssuer
    proc: subprocess.Popen[bytes]

    def send(self, method: str, path: str, token: str | None = None, **kwargs: object) -> httpx.Response:
        """One request on a new connection: the kernel hands each connection to either worker."""
        headers = {"connection": "close"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        response = httpx.request(method, self.base + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return response


def worker_of(response: httpx.Response) -> str:
    return response.headers["x-fir-worker"]


def each_worker(send: Callable[[], httpx.Response], tries: int = 400) -> dict[str, httpx.Response]:
    """Send until every worker answered; the first answer of each."""
    answers: dict[str, httpx.Response] = {}
    for _ in range(tries):
        response = send()
        answers.setdefault(worker_of(response), response)
        if len(answers) == WORKERS:
            return answers
    raise AssertionError(f"only {len(answers)} of {WORKERS} workers answered {tries} requests")


@pytest.fixture
def server(model_db: str, tmp_path: Path) -> Iterator[Server]:  # noqa: F811
    with serving(
        tmp_path, "--workers", str(WORKERS), DATABASE_URL=model_db, FIR_DEV_AUTH="1", FIR_LOG_LEVEL="ERROR"
    ) as (proc, base):
        port = int(base.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, port=port, dev_auth=True)
        served = Server(base, DevIssuer(settings), proc)
        each_worker(lambda: served.send("GET", "/readyz"))  # the parent is ready with its first worker
        yield served


def latest_version(server: Server, token: str) -> tuple[str, str, str]:
    response = server.send("POST", "/graphql", token, json={"query": LATEST})
    body = response.json()
    assert "errors" not in body, body
    return worker_of(response), body["data"]["device"]["latest"]["version"], response.headers["x-fir-cache"]


async def subscriber_on_each_worker(base: str, token: str) -> dict[str, ClientConnection]:
    """A session on each worker (the handshake names it), each subscribed to release events."""
    found = await session_on_each_worker(base, {"Authorization": f"Bearer {token}"})
    for ws in found.values():
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return found


async def test_a_publish_through_one_worker_clears_every_cache_and_reaches_every_subscriber(
    server: Server,
) -> None:
    reader = server.issuer.mint("fir:read", None, "workers-reader")
    cached: set[str] = set()
    for _ in range(400):  # until each worker has the answer cached
        worker, version, cache = await asyncio.to_thread(latest_version, server, reader)
        assert version == "00000001"
        if cache == "hit":
            cached.add(worker)
        if len(cached) == WORKERS:
            break
    assert len(cached) == WORKERS
    subscribers = await subscriber_on_each_worker(server.base, reader)
    await asyncio.sleep(0.3)  # the subscriptions are registered before the publish
    maker = server.issuer.mint("fir:publish", ["106C"], "workers-maker")
    published = await asyncio.to_thread(
        server.send, "POST", "/graphql", maker, json={"query": SUBMIT, "variables": {"input": SUBMISSION}}
    )
    assert published.json()["data"]["submitFirmwareRelease"]["status"] == "PUBLISHED", published.json()
    try:
        for worker, ws in subscribers.items():  # one of them is not the worker that took the publish
            event = await next_message(ws)
            assert event["type"] == "next", (worker, event)
            assert event["payload"]["data"]["firmwareReleased"] == {
                "version": "00000002",
                "status": "PUBLISHED",
            }
    finally:
        for ws in subscribers.values():
            await ws.close()
    fresh: set[str] = set()
    deadline = time.monotonic() + 3  # the notification takes a moment to reach the other worker
    while len(fresh) < WORKERS or time.monotonic() < deadline:
        worker, version, _ = await asyncio.to_thread(latest_version, server, reader)
        assert worker not in fresh or version == "00000002", f"worker {worker} served a stale answer"
        if version == "00000002":
            fresh.add(worker)
        assert time.monotonic() < deadline + 5, f"workers {fresh} saw the publish, not all {WORKERS}"


def test_every_worker_verifies_development_tokens_and_serves_the_same_keys(server: Server) -> None:
    reader = server.issuer.mint("fir:read", None, "workers-keys")  # as `fir token` does, from the key file
    answers = each_worker(lambda: server.send("POST", "/graphql", reader, json={"query": LATEST}))
    for response in answers.values():
        assert response.json()["data"]["device"]["latest"]["version"] == "00000001"
    jwks = {r.content for r in each_worker(lambda: server.send("GET", "/dev-oidc/jwks")).values()}
    assert len(jwks) == 1, "the workers publish different development keys"
    assert [key["kid"] for key in json.loads(jwks.pop())["keys"]] == [server.issuer.kid]
    log_keys = {r.content for r in each_worker(lambda: server.send("GET", "/log/public-key")).values()}
    assert len(log_keys) == 1, "the workers sign the transparency log with different keys"


def samples(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


def test_metrics_sum_every_worker(server: Server) -> None:
    served = [worker_of(server.send("POST", "/graphql", json={"query": "{ __typename }"})) for _ in range(40)]
    assert len(set(served)) == WORKERS, "the 40 requests reached one worker only"
    pattern = re.compile(r'fir_http_requests_total\{method="POST",route="/graphql",status="200"\} (\S+)')

    def counted(text: str) -> float:
        found = pattern.search(text)
        return float(found.group(1)) if found else 0.0

    # the counter is incremented once the response is sent: poll briefly for the last one
    assert wait_for(lambda: counted(server.send("GET", "/metrics").text) == 40, 5)
    scrapes = each_worker(lambda: server.send("GET", "/metrics"))
    for scrape in scrapes.values():  # whichever worker is scraped, it reports all 40
        assert counted(scrape.text) == 40
        assert len(samples(scrape.text, "fir_event_loop_lag_max_seconds ")) == 1  # one value, no pid label
        assert samples(scrape.text, "fir_event_loop_lag_seconds_count ")
        assert samples(scrape.text, "fir_gc_pause_max_seconds ")


def worker_processes(parent: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(parent).children() if "spawn_main" in " ".join(p.cmdline())]


async def session_on_each_worker(base: str, payload: dict[str, str]) -> dict[str, ClientConnection]:
    """graphql-transport-ws sessions, acknowledged, until one is open on each worker, by worker name."""
    found: dict[str, ClientConnection] = {}
    for _ in range(60):
        ws = await connect(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])
        assert ws.response is not None
        worker = ws.response.headers["x-fir-worker"]
        if worker in found:
            await ws.close()
            continue
        found[worker] = ws
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert (await next_message(ws))["type"] == "connection_ack"
        if len(found) == WORKERS:
            return found
    raise AssertionError("no WebSocket reached the second worker")


async def closing_code(ws: ClientConnection) -> int | None:
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(15):
            while True:
                await ws.recv()
    return ws.close_code


async def test_embedded_database_started_once_demo_loaded_once_and_sigterm_stops_everything(
    data_dir: Path,  # noqa: F811
) -> None:
    with serving(data_dir, "--workers", str(WORKERS), "--demo", FIR_LOG_LEVEL="ERROR") as (proc, base):
        served = Server(base, DevIssuer(load_settings(None)), proc)
        ready = await asyncio.to_thread(each_worker, lambda: served.send("GET", "/readyz"))
        assert {r.json()["database"] for r in ready.values()} == {"ok"}
        query = {"query": '{ manufacturer(manufacturerId: "106C") { name } }'}
        names = await asyncio.to_thread(each_worker, lambda: served.send("POST", "/graphql", json=query))
        assert {r.json()["data"]["manufacturer"]["name"] is not None for r in names.values()} == {True}
        assert len({r.content for r in names.values()}) == 1  # one database, the demo data in it
        postmasters = [
            p for p in postgres_of(data_dir) if p.ppid() not in {q.pid for q in postgres_of(data_dir)}
        ]
        assert len(postmasters) == 1
        workers = worker_processes(proc.pid)
        assert len(workers) == WORKERS
        shared = {Path(w.environ()["PROMETHEUS_MULTIPROC_DIR"]) for w in workers}
        assert len(shared) == 1
        metrics_dir = shared.pop()
        assert any(metrics_dir.glob("counter_*.db"))
        sessions = list((await session_on_each_worker(base, {})).values())
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.gather(*(closing_code(ws) for ws in sessions)) == [1001] * WORKERS
        assert await asyncio.to_thread(proc.wait, 30) == 0
        assert wait_for(
            lambda: not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers), 10
        ), "a worker outlived fir serve"
        assert wait_for(lambda: not postgres_of(data_dir), 15), "the embedded PostgreSQL outlived fir serve"
        assert not metrics_dir.exists(), "the parent leaves the multiprocess metrics directory behind"
