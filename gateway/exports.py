"""`GET /exports/fir.xlsx` and `/exports/fir.csv`: the FIR spreadsheet for a fir:read caller, streamed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.auth.tokens import www_authenticate
from gateway.authn import authenticate, resources_of, unauthenticated_response
from loaders.db import Db
from resolvers import fir_export
from resolvers.errors import Unauthenticated
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
    try:
        principal = await authenticate(resources_of(request), request.headers.get("authorization"))
    except Unauthenticated as error:
        return unauthenticated_response(error)
    if principal.anonymous:
        return _refused(401, "UNAUTHENTICATED", {"WWW-Authenticate": www_authenticate(None)})
    if not ROUTES["/exports/fir"].allows(principal, None):
        return _refused(403, "FORBIDDEN")
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


def _refused(status: int, code: str, headers: dict[str, str] | None = None) -> Response:
    error = {"message": "the FIR spreadsheet needs a token with scope fir:read", "extensions": {"code": code}}
    return Response(
        orjson.dumps({"errors": [error]}), status_code=status, media_type="application/json", headers=headers
    )
