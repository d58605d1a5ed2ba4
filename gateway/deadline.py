"""Per-request time limits: the body must arrive within FIR_BODY_TIMEOUT, the answer start within FIR_REQUEST_TIMEOUT."""

from __future__ import annotations

import asyncio
import logging

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("fir.deadline")

# Runaway work: the server gave up, so a 5xx; the code tells it apart from INTERNAL.
DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
# A client too slow sending its body: its own fault, 408 as HTTP says.
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"


class BodyTimeout(Exception):
    """The request body did not arrive in time."""


def _error_body(message: str, code: str, **extensions: object) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]})


class Deadline:
    """Ends a request whose answer has not started by its deadline, whatever it was doing.

    The timeout fires at the next point the request hands the loop back: awaits on the database,
    the threads that parse and validate, and the slices that cut long result building
    (schema.slices). Once the response has started the deadline no longer applies: its body is
    already computed.
    """

    def __init__(
        self,
        app: ASGIApp,
        request_timeout: float,
        body_timeout: float,
        uploads: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.app = app
        self.request_timeout = request_timeout
        self.body_timeout = body_timeout
        # (method, path) of the streamed uploads, which keep their own time (a 4 GiB file cannot
        # arrive within a 10 s body timeout): a stall bound and a minimum rate, gateway.fleet_checks
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in self.uploads:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                timer.reschedule(None)
            await send(message)

        try:
            async with asyncio.timeout(self.request_timeout) as timer:
                await self.app(scope, timed_body(receive, self.body_timeout), tracked)
        except BodyTimeout:
            if not started:
                message = f"the request body did not arrive within {self.body_timeout:g} s"
                await _respond(send, 408, _error_body(message, REQUEST_TIMEOUT), close=True)
        except TimeoutError:
            if not timer.expired():  # someone else's timeout, not ours
                raise
            log.warning("request to %s ended at its %g s deadline", scope.get("path"), self.request_timeout)
            if not started:
                message = f"the request did not complete within its {self.request_timeout:g} s deadline"
                body = _error_body(message, DEADLINE_EXCEEDED, deadline=self.request_timeout)
                await _respond(send, 504, body)


def timed_body(receive: Receive, seconds: float) -> Receive:
    """The body, all of it, within `seconds` of the request's start; later messages pass untimed."""
    deadline = asyncio.get_running_loop().time() + seconds
    complete = False

    async def receive_in_time() -> Message:
        nonlocal complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise BodyTimeout from None
        complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return receive_in_time


async def _respond(send: Send, status: int, body: bytes, close: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
