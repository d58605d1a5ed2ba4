"""The request body cap: checked against Content-Length up front, and enforced while the body is read."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body exceeds the limit of {limit} bytes for this caller")
        self.limit = limit


def declared_too_large(scope: Scope, limit: int) -> bool:
    """A Content-Length (or, for GET, a query string) over the limit: refused without reading a byte."""
    if len(scope.get("query_string", b"")) > limit:
        return True
    declared = Headers(scope=scope).get("content-length", "").strip()
    return declared.isascii() and declared.isdigit() and int(declared) > limit


def capped(receive: Receive, limit: int) -> Receive:
    """A receive channel that raises BodyTooLarge as soon as the bytes read pass `limit`.

    Content-Length can be absent (chunked) or lie, so the count is kept on what actually arrives;
    nothing past the limit is ever buffered.
    """
    read = 0

    async def receive_capped() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_capped
