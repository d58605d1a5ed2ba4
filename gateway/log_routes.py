"""Routes of the transparency log: the newest checkpoint, the verifier key, proofs and hash tiles are
public (hashes and signatures only); entry bundles hold the logged facts themselves (contacts,
releases), so they need what GraphQL needs to show those facts: fir:read."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.authn import resources_of, route_caller
from loaders import tlog
from loaders.db import Db
from resolvers import log_tiles, transparency
from schema.access import ROUTES

_NOTE = "text/plain; charset=utf-8"
_NO_STORE = {"cache-control": "no-cache"}
_IMMUTABLE = {"cache-control": "public, max-age=31536000, immutable"}
# the same bytes for every fir:read caller, but never for a shared cache to hand to anyone
_IMMUTABLE_PRIVATE = {"cache-control": "private, max-age=31536000, immutable"}


def routes() -> list[Route]:
    return [
        Route("/log/checkpoint", checkpoint, methods=["GET"]),
        Route("/log/public-key", public_key, methods=["GET"]),
        Route("/log/proof/inclusion", inclusion, methods=["GET"]),
        Route("/log/proof/consistency", consistency, methods=["GET"]),
        Route("/log/tile/{path:path}", tile, methods=["GET"]),
    ]


def _db(request: Request) -> Db:
    return Db(resources_of(request).pool)


async def checkpoint(request: Request) -> Response:
    row = await tlog.latest_checkpoint(_db(request))
    if row is None:
        return _error(404, "NOT_FOUND", "no checkpoint signed yet")
    return PlainTextResponse(row.note, media_type=_NOTE, headers=_NO_STORE)


async def public_key(request: Request) -> Response:
    key = resources_of(request).log_verifier_key
    return PlainTextResponse(key.text() + "\n", media_type=_NOTE)


async def inclusion(request: Request) -> Response:
    index, size = _ints(request, "index", "size")
    if index is None or size is None:
        return _error(400, "BAD_USER_INPUT", "index and size must be non-negative integers")
    db = _db(request)
    path = await transparency.inclusion(db, index, size) if size <= await tlog.tree_size(db) else None
    if path is None:
        return _error(404, "NOT_FOUND", "no such leaf in a tree of that size")
    return JSONResponse({"leafIndex": index, "treeSize": size, "path": _b64(path)}, headers=_NO_STORE)


async def consistency(request: Request) -> Response:
    old, new = _ints(request, "from", "to")
    if old is None or new is None:
        return _error(400, "BAD_USER_INPUT", "from and to must be non-negative integers")
    path = await transparency.consistency(_db(request), old, new)
    if path is None:
        return _error(404, "NOT_FOUND", "no such tree sizes")
    return JSONResponse({"from": old, "to": new, "path": _b64(path)}, headers=_NO_STORE)


async def tile(request: Request) -> Response:
    """C2SP tlog-tiles: a hash tile or an entry bundle; what a path names never changes, so it caches forever."""
    wanted = log_tiles.parse(request.path_params["path"])
    if wanted is None:
        return _error(
            400, "BAD_USER_INPUT", "a tile is <L>/<N>[.p/<W>] or entries/<N>[.p/<W>] (C2SP tlog-tiles)"
        )
    entries = wanted.level is None
    if entries:
        caller = await route_caller(request, ROUTES["/log/tile/entries"], "an entry bundle")
        if isinstance(caller, Response):
            return caller
    found = await log_tiles.read(_db(request), wanted)
    if found is None:
        return _error(404, "NOT_FOUND", "no such tile in the newest checkpoint's tree")
    headers = _IMMUTABLE_PRIVATE if entries else _IMMUTABLE
    return Response(found, media_type="application/octet-stream", headers=headers)


def _ints(request: Request, *names: str) -> list[int | None]:
    values = [request.query_params.get(n, "") for n in names]
    # ASCII digits only: str.isdigit takes any Unicode digit, which int() reads
    return [int(v) if v.isascii() and v.isdigit() and len(v) <= 18 else None for v in values]


def _b64(hashes: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)
