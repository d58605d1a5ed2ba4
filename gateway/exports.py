"""`GET /exports/fir.xlsx` and `/exports/fir.csv`: the FIR spreadsheet for a fir:read caller, streamed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.authn import resources_of, route_caller
from loaders.db import Db
from resolvers import fir_export
from schema.access import ROUTES
from spreadsheets.fir_files import MEDIA_TYPES, STREAMS

DATA_VERSION_HEADER = "x-fir-data-version"


def routes() -> list[Route]:
    return [Route(f"/exports/fir.{kind}", _endpoint(kind), methods=["GET"]) for kind in STREAMS]


def _endpoint(kind: str) -> Callable[[Request], Any]:
    async def download(request: Request) -> Response:
        return await _download(request, kind)

    return download


async def _download(request: Request, kind: str) -> Response:
    principal = await route_caller(request, ROUTES["/exports/fir"], "the FIR spreadsheet")
    if isinstance(principal, Response):
        return principal
    stack = contextlib.AsyncExitStack()
    snap = await stack.enter_async_context(fir_export.snapshot(Db(resources_of(request).pool)))
    body = _body(stack, STREAMS[kind](snap))
    await anext(body)  # started: from here on the body owns the snapshot and closes it however it ends
    headers = {
        DATA_VERSION_HEADER: str(snap.data_version),
        "content-disposition": f'attachment; filename="fir-{snap.data_version}.{kind}"',
        "cache-control": "private, no-store",
    }
    return StreamingResponse(body, media_type=MEDIA_TYPES[kind], headers=headers)


async def _body(stack: contextlib.AsyncExitStack, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async with stack:
        yield b""
        async for chunk in chunks:
            yield chunk
