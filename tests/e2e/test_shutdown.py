"""SIGTERM and SIGINT: in-flight requests finish, WebSockets close 1001, the embedded PostgreSQL stops."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.e2e.server import free_port, serving
from tests.e2e.test_database_faults import postgres_of

ROOT = Path(__file__).resolve().parents[2]
QUERY = json.dumps({"query": "{ manufacturers(first: 1) { nodes { name } } }"}).encode()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fir-shutdown-") as tmp:
        os.chmod(tmp, 0o755)
        yield Path(tmp)


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


async def slow_body(sent: asyncio.Event, release: asyncio.Event) -> AsyncIterator[bytes]:
    """A request body that arrives in two parts: the request is in flight until `release`."""
    yield QUERY[:10]
    sent.set()
    await release.wait()
    yield QUERY[10:]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_drains_requests_closes_websockets_1001_and_stops_postgres(
    data_dir: Path, signum: int
) -> None:
    with serving(data_dir, FIR_DEV_AUTH="1") as (proc, base):
        settings = dataclasses.replace(
            load_settings(None), data_dir=data_dir, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        token = DevIssuer(settings).mint("fir:read", None, "shutdown-reader")
        assert postgres_of(data_dir)
        ws = await connect(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        subscription = {"query": "subscription { firmwareReleased { id } }"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscription}))

        sent, release = asyncio.Event(), asyncio.Event()
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            in_flight = asyncio.create_task(
                client.post(
                    "/graphql", content=slow_body(sent, release), headers={"content-type": "application/json"}
                )
            )
            await asyncio.wait_for(sent.wait(), 10)
            await asyncio.sleep(0.2)
            signalled = time.monotonic()
            proc.send_signal(signum)
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
            await asyncio.sleep(0.5)
            assert proc.poll() is None, "the server must wait for the request in flight"
            release.set()
            answered = await in_flight
            assert answered.status_code == 200 and answered.json()["data"]["manufacturers"]["nodes"] == []
            with pytest.raises(httpx.ConnectError):  # no longer accepting
                await client.get("/healthz")
        assert await asyncio.to_thread(proc.wait, 20) == 0
        print(f"\nexit {time.monotonic() - signalled:.2f} s after {signal.Signals(signum).name}")
        assert not postgres_of(data_dir), "the embedded PostgreSQL outlived fir serve"


def test_sigterm_to_the_make_run_process_group_leaves_nothing_running(data_dir: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "FIR_DATA_DIR": str(data_dir),
        "FIR_PORT": str(port),
        "FIR_LOG_LEVEL": "WARNING",
        "MAKEFLAGS": "",
    }
    log = (data_dir / "make-run.log").open("wb")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PYTHON={sys.executable}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal or a service manager gives it
    )
    group = os.getpgid(make.pid)
    try:

        def ready() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            return False

        assert wait_for(ready, 120), (data_dir / "make-run.log").read_text()[-3000:]
        assert postgres_of(data_dir)
        os.killpg(group, signal.SIGTERM)
        make.wait(30)

        def group_gone() -> bool:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return True
            return False

        assert wait_for(group_gone, 30), "a process of the make run group survived SIGTERM"
        assert wait_for(lambda: not postgres_of(data_dir), 15), "the embedded PostgreSQL survived make run"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        for proc in postgres_of(data_dir):
            proc.kill()
        log.close()
