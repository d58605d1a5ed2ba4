"""What the parent prepares for several workers, and the header naming the worker that answered."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.auth.dev_issuer import key_path
from gateway.log_signer import dev_key_path
from gateway.settings import load_settings
from gateway.workers import WORKER_HEADER, WORKER_NAME, WorkerHeader, worker_environment


@pytest.fixture
def restored_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """worker_environment writes os.environ for the workers it precedes: put it back afterwards."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.setenv("FIR_WORKERS", "1")


def test_one_worker_needs_nothing_prepared(tmp_path: Path, restored_environment: None) -> None:
    settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, dev_auth=True)
    with worker_environment(settings, 1) as metrics_dir:
        assert metrics_dir is None
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == ""
    assert not key_path(settings).exists()


def test_several_workers_share_keys_made_once_and_a_fresh_metrics_directory(
    tmp_path: Path, restored_environment: None
) -> None:
    settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, dev_auth=True)
    with worker_environment(settings, 3) as metrics_dir:
        assert metrics_dir is not None and metrics_dir.is_dir() and not any(metrics_dir.iterdir())
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(metrics_dir)
        assert os.environ["FIR_WORKERS"] == "3"
        assert key_path(settings).exists() and dev_key_path(settings).exists()
        (metrics_dir / "counter_1.db").write_bytes(b"")
    assert not metrics_dir.exists()


async def answered(scope_type: str, first: Message) -> list[Message]:
    """The messages WorkerHeader passes on when the application sends `first`."""
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(first)

    async def receive() -> Message:
        return {}

    async def send(message: Message) -> None:
        sent.append(message)

    await WorkerHeader(app)({"type": scope_type}, receive, send)
    return sent


@pytest.mark.parametrize(
    ("scope_type", "first"),
    [
        ("http", {"type": "http.response.start", "status": 404, "headers": [(b"a", b"b")]}),
        ("websocket", {"type": "websocket.accept", "subprotocol": None}),
    ],
)
async def test_every_response_and_handshake_names_the_worker(scope_type: str, first: Message) -> None:
    [message] = await answered(scope_type, first)
    assert (WORKER_HEADER, WORKER_NAME) in message["headers"]
    assert [h for h in message["headers"] if h[0] != WORKER_HEADER] == first.get("headers", [])


async def test_bodies_and_lifespan_pass_untouched() -> None:
    body = {"type": "http.response.body", "body": b"x"}
    assert await answered("http", body) == [body]
    startup = {"type": "lifespan.startup.complete"}
    assert await answered("lifespan", startup) == [startup]
