"""The request deadline and the body clock, at the ASGI level: 504 DEADLINE_EXCEEDED, 408 REQUEST_TIMEOUT."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.deadline import Deadline

SCOPE: Scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}


async def call(app: Any, receive: Receive) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(SCOPE, receive, send)
    return sent


async def whole_body() -> Message:
    return {"type": "http.request", "body": b"{}", "more_body": False}


def answer(sent: list[Message]) -> tuple[int, dict[str, Any]]:
    return sent[0]["status"], orjson.loads(b"".join(m.get("body", b"") for m in sent[1:]))


async def test_runaway_work_ends_at_the_deadline() -> None:
    async def runaway(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(30)

    started = asyncio.get_running_loop().time()
    sent = await call(Deadline(runaway, request_timeout=0.2, body_timeout=5), whole_body)
    assert asyncio.get_running_loop().time() - started < 5
    status, body = answer(sent)
    assert status == 504
    [error] = body["errors"]
    assert error["extensions"] == {"code": "DEADLINE_EXCEEDED", "deadline": 0.2}


async def test_a_slow_body_is_refused_with_408() -> None:
    async def trickle() -> Message:
        await asyncio.sleep(30)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def reads_body(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    sent = await call(Deadline(reads_body, request_timeout=5, body_timeout=0.2), trickle)
    status, body = answer(sent)
    assert status == 408
    assert body["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT"}
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_after_the_body_receive_is_untimed() -> None:
    """Waiting for a disconnect after the whole body arrived is not a slow body."""
    messages = [await whole_body()]

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.sleep(0.4)
        return {"type": "http.disconnect"}

    async def waits_for_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    sent = await call(Deadline(waits_for_disconnect, request_timeout=5, body_timeout=0.2), receive)
    assert sent[0]["status"] == 200


async def test_a_started_response_is_not_cut() -> None:
    async def slow_body(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.4)
        await send({"type": "http.response.body", "body": b'{"data":{}}'})

    sent = await call(Deadline(slow_body, request_timeout=0.2, body_timeout=5), whole_body)
    assert answer(sent) == (200, {"data": {}})


async def test_other_timeouts_are_not_mistaken_for_the_deadline() -> None:
    async def own_timeout(scope: Scope, receive: Receive, send: Send) -> None:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)

    with pytest.raises(TimeoutError):
        await call(Deadline(own_timeout, request_timeout=5, body_timeout=5), whole_body)
