"""Several worker processes: what the parent prepares once for all of them, and a worker's opaque name."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.settings import Settings

WORKER_HEADER = b"x-fir-worker"
# Random per process, not the pid: tells a client (and the tests) which worker answered, nothing more.
WORKER_NAME = secrets.token_hex(4).encode()


@contextlib.contextmanager
def worker_environment(settings: Settings, workers: int) -> Iterator[Path | None]:
    """For N > 1 workers: shared keys made once, a fresh multiprocess metrics directory, removed at exit.

    Workers are spawned processes: they read what they share from the environment set here.
    """
    if workers <= 1:
        yield None
        return
    create_shared_keys(settings)
    metrics_dir = Path(tempfile.mkdtemp(prefix="fir-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    os.environ["FIR_WORKERS"] = str(workers)
    try:
        yield metrics_dir
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def create_shared_keys(settings: Settings) -> None:
    """The development issuer's and the log's keys, made by the parent so that no two workers race to."""
    from gateway.log_signer import signing_key

    if settings.dev_auth:
        from gateway.auth.dev_issuer import key_path, load_or_create_key

        load_or_create_key(key_path(settings))
    signing_key(settings)


class WorkerHeader:
    """Names the worker on every HTTP response and WebSocket handshake (only with several workers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", []), (WORKER_HEADER, WORKER_NAME)]}
            await send(message)

        await self.app(scope, receive, named)
