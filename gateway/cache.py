"""The response cache's ASGI side: serve a hit, or run the endpoint and keep its answer (store and keys
in cache_store and cache_keys)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import OperationType
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.cache_keys import (
    GraphQLRequest,
    body_is_cacheable,
    cache_key,
    operation_type,
    parse_document,
    request_from_get,
    request_from_post,
)
from gateway.cache_store import OVERSIZE_FRACTION, CacheKey, ResponseCache
from gateway.media import GRAPHQL_RESPONSE, JSON, content_type
from gateway.replicas import ReadAfter, ReadChoice
from gateway.resources import Resources
from gateway.trusted_documents import Refused
from loaders.data_version import current_version
from loaders.db import Db, database_unavailable
from resolvers.principal import Principal
from schema.offload import off_loop
from schema.parsing import is_long

# --- the ASGI side: serve a hit, or run the endpoint and keep its answer ---------------------------


def _wants_cache(scope: Scope, headers: Headers) -> bool:
    if "multipart" in headers.get("accept", ""):  # incremental delivery answers differently
        return False
    if scope["method"] == "GET":
        return True
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return scope["method"] == "POST" and content_type == "application/json"


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """Hand the endpoint the body we already consumed, then the live channel (for disconnects)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class _Capture:
    """Forwards the endpoint's response unchanged while keeping a copy of what a hit would need."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0
        self.content_type = ""
        self.encoded = False
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = Headers(raw=message.get("headers", []))
            self.content_type = headers.get("content-type", "")
            self.encoded = "content-encoding" in headers
            message = {**message, "headers": [*message.get("headers", []), (b"x-fir-cache", b"miss")]}
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
        await self.send(message)

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def cacheable(self, cache: ResponseCache, key: CacheKey) -> bool:
        """Checked cheapest first: an oversize body is never parsed for its errors."""
        json = self.content_type.startswith((JSON, GRAPHQL_RESPONSE))
        if self.status != 200 or not json or self.encoded:
            return False
        return cache.fits(key, sum(map(len, self.chunks))) and body_is_cacheable(self.body)


def _clearing(cache: ResponseCache, scope: Scope, send: Send) -> Send:
    """Read-your-writes in this process: the mutation has committed before its response starts, and
    its notification may arrive after the client's next query; the notification still clears later.

    Only a mutation that committed a write clears (gateway.context.request_db keeps its marks in the
    scope's state): a refused one (no token, a GET, FORBIDDEN, invalid) changes nothing, so a caller
    cannot empty the cache for everyone by sending refused mutations.
    """

    async def clearing(message: Message) -> None:
        if message["type"] == "http.response.start":
            marks = scope.get("state", {}).get("marks")
            if marks is not None and marks.committed:
                cache.invalidate()
        await send(message)

    return clearing


async def _send_hit(send: Send, body: bytes, media_type: str) -> None:
    """A stored body is a 200 answer with data, the same under either media type; only the header differs."""
    headers = [
        (b"content-type", content_type(media_type).encode()),
        (b"content-length", str(len(body)).encode()),
        (b"x-fir-cache", b"hit"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclasses.dataclass(frozen=True, slots=True)
class Freshness:
    """What the cache stood at when a request asked it: `generation` counts its clears (an answer
    is stored only if none came since), `version` is the data version its answers are at (what a
    writer's token and a replica's replay are compared with: two different numbers)."""

    generation: int
    version: int | None


async def current_generation(resources: Resources) -> Freshness | None:
    """The cache's state to serve and store under; None when freshness cannot be established.

    While the listener is healthy the cache's version is current and this costs nothing; otherwise
    notifications may be missed, so the committed version is read on every request until it recovers.
    """
    cache: ResponseCache = resources.cache
    listener = resources.listener
    if listener is None or not listener.healthy:
        try:
            cache.reset(await current_version(resources.pool))
        except Exception as error:
            if not_now(error):
                return None  # not known fresh: answer without the cache (an outage is the endpoint's 503)
            raise
    return Freshness(cache.generation, cache.version)


def not_now(error: Exception) -> bool:
    """The database cannot answer the cache just now (an outage, or a statement that timed out): the
    request goes to the endpoint, uncached, which reports it."""
    return isinstance(error, TimeoutError) or database_unavailable(error)


MAX_KEYED_REQUEST = 1024 * 1024


async def _request_of(scope: Scope, receive: Receive, limit: int) -> tuple[GraphQLRequest | None, Receive]:
    """The GraphQL request if it might be cacheable, and the receive channel for the endpoint."""
    headers = Headers(scope=scope)
    if not _wants_cache(scope, headers):
        return None, receive
    if scope["method"] == "GET":
        return request_from_get(scope), receive
    declared = headers.get("content-length", "")
    if (
        declared.isascii() and declared.isdigit() and int(declared) > limit
    ):  # not worth reading: strawberry reads it itself
        return None, receive
    messages, body = await _read_body(receive)
    request = request_from_post(body) if len(body) <= limit else None
    return request, _replay(messages, receive)


async def document_of(
    resources: Resources, principal: Principal, request: GraphQLRequest
) -> GraphQLRequest | None:
    """The request with the document it runs (by id: the registered body, remembered in-process after the
    first look), or None when the endpoint must answer it uncached: trusted documents refuse it (the
    endpoint says why), or the registry cannot be read just now (the endpoint reports the outage)."""
    try:
        query = await resources.trusted_documents.document(
            Db(resources.pool), principal, request.document_id, request.query
        )
    except Refused:
        return None
    except Exception as error:
        if not_now(error):
            return None
        raise
    if query is None:
        return None
    return request if query is request.query else dataclasses.replace(request, query=query)


async def serve(
    resources: Resources, principal: Principal, scope: Scope, receive: Receive, send: Send, endpoint: ASGIApp
) -> None:
    """Answer from the cache when the query's answer at the current data version is known."""
    cache: ResponseCache = resources.cache
    # Whatever the cache makes of the request: a mutation it cannot read (client extensions, a multipart
    # Accept, a body past the key's limit) still writes, and its writer reads next. Only a committed
    # write clears (see _clearing), so queries and refused mutations pass through untouched.
    send = _clearing(cache, scope, send)
    # a request this large could not be stored anyway, or is too large to be asked twice: decoding
    # and hashing it here, on the loop, would double the JSON work strawberry does after us
    limit = min(cache.max_bytes // OVERSIZE_FRACTION, MAX_KEYED_REQUEST)
    request, receive = await _request_of(scope, receive, limit)
    if request is not None:
        request = await document_of(resources, principal, request)
    max_tokens = resources.settings.max_tokens
    if request is not None and is_long(request.query):
        # parsed and printed on a thread, as the endpoint parses a long document (schema.parsing):
        # a 1 MB document held the loop 0.3 s here, before the endpoint's own off-loop parse
        await off_loop(partial(parse_document, request.query, max_tokens))
    if request is not None and operation_type(request, max_tokens) is OperationType.MUTATION:
        await endpoint(scope, receive, send)
        return
    key = cache_key(request, principal, max_tokens) if request else None
    fresh = await current_generation(resources) if key else None
    state = scope.get("state", {})
    if key is None or fresh is None or not covers(fresh.version, state.get("read_after")):
        await endpoint(scope, receive, send)
        return
    hit = cache.get(key)
    if hit is not None:
        await _send_hit(send, hit, state.get("media_type") or JSON)
        return
    await _store_after(cache, key, fresh, lambda s: endpoint(scope, receive, s), send, state.get("reads"))


def covers(version: int | None, after: ReadAfter | None) -> bool:
    """Whether answers kept at data version `version` include the caller's own write (its
    FIR-Read-After token).

    This process may not have heard of that write yet (it committed through another gateway): then
    the cache is passed by, and the read waits for a replica, or the primary, that has it.
    """
    if after is None:
        return True
    return after.data_version is not None and version is not None and version >= after.data_version


async def _store_after(
    cache: ResponseCache,
    key: CacheKey,
    fresh: Freshness,
    run: Callable[[Send], Any],
    send: Send,
    reads: ReadChoice | None = None,
) -> None:
    """An answer a replica read at an older data version than the cache's is not kept: it would
    outlive the replica's lag, and contradict a writer's token, until the next write."""
    capture = _Capture(send)
    await run(capture)
    if reads is not None and reads.stale_for(fresh.version):
        return
    if capture.cacheable(cache, key):
        cache.put(key, capture.body, fresh.generation)
