"""The request body: read into one growing buffer, parsed without a second copy of itself when large, let go once parsed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter
from starlette.requests import ClientDisconnect, Request

from schema.offload import off_loop


def starlette_request(request: AsyncHTTPRequestAdapter) -> Request | None:
    found = getattr(request, "_request", None)
    return found if isinstance(found, Request) else None


async def read_body(request: AsyncHTTPRequestAdapter) -> None:
    """Starlette keeps every chunk until it joins them: for a 120 MB body, 120 MB of chunks the
    allocator keeps after they are freed, on top of the body and the tree parsed from it. One
    buffer grown in place frees each chunk as soon as it is copied, so the next one reuses it.

    A large body is parsed here, once and off the loop (see `Parsed`), its bytes let go as soon as
    they are decoded."""
    found = starlette_request(request)
    if found is not None:
        await read_request_body(found)


async def read_request_body(found: Request) -> None:
    """`read_body` for a starlette Request (the endpoint's fast lane reads it before strawberry would)."""
    if hasattr(found, "_body"):
        return
    body = await _received(found)
    if len(body) < LEAN_PARSE_BYTES:
        found._body = body  # type: ignore[assignment]  # orjson reads a bytearray as it reads bytes
        return
    held = [body]
    del body  # the thread lets go of the bytes once decoded
    parsed = await off_loop(partial(_parse_large, held))
    found._body = parsed  # type: ignore[assignment]  # `loads` reads it as the body it was parsed from


async def _received(found: Request) -> bytes | bytearray:
    """What starlette's `Request.stream()` yields, joined, without an async generator per request: a body
    sent in one message is kept as it came, a longer one grows one buffer (see `read_body`)."""
    if found._stream_consumed:
        raise RuntimeError("Stream consumed")
    body: bytes | bytearray | None = None
    while True:
        message = await found.receive()
        if message["type"] == "http.request":
            chunk: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            if body is None and not more:
                found._stream_consumed = True
                return chunk
            if body is None:
                body = bytearray()
            body += chunk
            if not more:
                found._stream_consumed = True
                return body
        elif message["type"] == "http.disconnect":
            found._is_disconnected = True
            raise ClientDisconnect()


def release_body(request: AsyncHTTPRequestAdapter) -> None:
    """Only the parsed request is read from here on: the body (120 MB for a million-device fleet)
    goes now, not when the response has been sent."""
    found = starlette_request(request)
    if found is not None:
        release_request_body(found)


def release_request_body(found: Request) -> None:
    if hasattr(found, "_body"):
        del found._body


# Past this size the body is parsed by the standard library's json. orjson first builds its own tree of
# the whole document and then the Python objects: for a 120 MB fleet about 300 MB more at its peak
# than the Python objects alone, which is most of the margin to 1 GB. json builds the objects directly,
# at about the same speed for documents of this shape (many small objects of strings).
LEAN_PARSE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Parsed:
    """A large body, parsed on a thread by `read_request_body` and kept where starlette keeps the body:
    `loads` hands back its value (or raises its error) wherever the body would have been parsed.

    Parsing 12 MB of JSON (100,000 devices) takes about 0.1 s and 120 MB (a million) over a second,
    all of it in C, which never gives the loop its turn: `/healthz` waited as long. On a thread, with
    an `object_hook` (a Python call per JSON object, so the interpreter may switch threads between
    any two devices), the loop is held for a few milliseconds at a time, at about 4% more CPU."""

    value: Any = None
    error: ValueError | None = None


def _parse_large(held: list[bytes | bytearray]) -> Parsed:
    try:
        return Parsed(loads(held.pop(), switching=True))  # loads holds the only reference to the bytes
    except ValueError as error:
        return Parsed(error=error)


def _same(value: dict[str, Any]) -> dict[str, Any]:
    return value


def _orjson_number(text: str) -> Any:
    """Numbers exactly as orjson reads them: a huge integer becomes a float, 1e400 is refused."""
    return orjson.loads(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(data: str | bytes | bytearray | Parsed, *, switching: bool = False) -> Any:
    """orjson.loads, or for a large body the same result from json (ValueError when orjson would
    refuse it). A body with \\u escapes goes to orjson whatever its size: json would accept a lone
    surrogate, which orjson refuses; so does one nested deeper than json's recursion allows.
    `switching`: let other threads run between JSON objects (see `Parsed`). A body already `Parsed`
    is its value."""
    if isinstance(data, Parsed):
        if data.error is not None:
            raise data.error
        return data.value
    if len(data) < LEAN_PARSE_BYTES:
        return orjson.loads(data)
    text = data if isinstance(data, str) else data.decode()  # UnicodeDecodeError is a ValueError
    del data  # a large body's bytes go once decoded (the caller's reference aside)
    if "\\u" in text:
        return orjson.loads(text)
    try:
        return json.loads(
            text,
            parse_int=_orjson_number,
            parse_float=_orjson_number,
            parse_constant=_no_constant,
            object_hook=_same if switching else None,
        )
    except RecursionError:  # json's limit is the interpreter's stack, below orjson's 1024 levels
        return orjson.loads(text)  # so orjson decides, as it does for a smaller body
