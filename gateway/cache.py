"""The response cache for GraphQL queries: keyed on document and visibility, cleared by every data version."""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import asyncpg
import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse, print_ast
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.resources import Resources
from loaders.data_version import current_version
from resolvers.principal import Principal

log = logging.getLogger("fir.cache")

# A document's bytes are counted with its entry; this covers the dict slot, tuple and entry objects.
_ENTRY_OVERHEAD = 200
# A larger response would evict a sixteenth of the cache at once for one caller's benefit.
_OVERSIZE_FRACTION = 16
# Error codes that follow from the data and the caller's visibility alone, so they are as
# cacheable as data keyed on `visibility_key`; anything else (INTERNAL, limits) may be transient.
_DETERMINISTIC_ERRORS = frozenset({"FORBIDDEN"})


class CacheKey(NamedTuple):
    document: str
    operation_name: str | None
    variables: bytes
    visibility: str

    @property
    def size(self) -> int:
        return (
            len(self.document) + len(self.operation_name or "") + len(self.variables) + len(self.visibility)
        )


@dataclass(frozen=True)
class Entry:
    body: bytes
    version: int | None
    size: int


class ResponseCache:
    """An LRU bounded by entries and bytes, holding only answers computed at the current data version.

    `generation` changes whenever the cache is cleared: a response is stored only if the
    generation it was computed under is still current, so an answer that raced a write is dropped.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.version: int | None = None
        self.generation = 0
        self.nbytes = 0
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry.version != self.version:
            return None
        self._entries.move_to_end(key)
        return entry.body

    def fits(self, key: CacheKey, body_size: int) -> bool:
        return body_size + key.size + _ENTRY_OVERHEAD <= self.max_bytes // _OVERSIZE_FRACTION

    def put(self, key: CacheKey, body: bytes, generation: int) -> bool:
        """Store unless a clear happened since `generation` was read, or the entry is oversize."""
        if generation != self.generation or not self.fits(key, len(body)):
            return False
        size = len(body) + key.size + _ENTRY_OVERHEAD
        self._discard(key)
        self._entries[key] = Entry(body, self.version, size)
        self.nbytes += size
        self._evict()
        return True

    def advance(self, version: int) -> None:
        """A notified version: versions only grow, so an older one arrived late and changes nothing."""
        if self.version is None or version > self.version:
            self._clear(version)

    def reset(self, version: int) -> None:
        """A version read from the database: any difference (even a restored, older one) clears."""
        if version != self.version:
            self._clear(version)

    def invalidate(self) -> None:
        self._clear(self.version)

    def _clear(self, version: int | None) -> None:
        self._entries.clear()
        self.nbytes = 0
        self.version = version
        self.generation += 1

    def _discard(self, key: CacheKey) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.nbytes -= old.size

    def _evict(self) -> None:
        while len(self._entries) > self.max_entries or self.nbytes > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self.nbytes -= old.size


# --- which requests are cacheable, and their keys -------------------------------------------------


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None


@dataclass(frozen=True)
class ParsedDocument:
    normalised: str
    operations: dict[str | None, OperationType]


@functools.lru_cache(maxsize=256)
def parse_document(query: str, max_tokens: int) -> ParsedDocument | None:
    """Memoised by the raw text: clients repeat the same few documents verbatim."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operations: dict[str | None, OperationType] = {o.name.value: o.operation for o in ops if o.name}
    if len(ops) == 1:
        operations[None] = ops[0].operation
    return ParsedDocument(print_ast(document), operations)


def operation_type(request: GraphQLRequest, max_tokens: int) -> OperationType | None:
    """The type of the operation that will run; None when strawberry would refuse the request."""
    parsed = parse_document(request.query, max_tokens)
    return parsed.operations.get(request.operation_name) if parsed else None


def cache_key(request: GraphQLRequest, principal: Principal, max_tokens: int) -> CacheKey | None:
    """The key for a query (never a mutation or subscription); None when it must not be cached."""
    parsed = parse_document(request.query, max_tokens)
    if parsed is None or parsed.operations.get(request.operation_name) is not OperationType.QUERY:
        return None
    variables = orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS)
    return CacheKey(parsed.normalised, request.operation_name, variables, principal.visibility_key)


def request_from_params(data: Any) -> GraphQLRequest | None:
    """The shape strawberry accepts, minus batches and extensions (which could change the meaning)."""
    if not isinstance(data, dict):
        return None
    query, name, variables = data.get("query"), data.get("operationName"), data.get("variables")
    if not isinstance(query, str) or not isinstance(name, str | None) or data.get("extensions"):
        return None
    if not isinstance(variables, dict | None):
        return None
    return GraphQLRequest(query, name, variables)


def request_from_get(scope: Scope) -> GraphQLRequest | None:
    params = dict(QueryParams(scope.get("query_string", b"")))
    raw = params.get("variables")
    if raw is not None:
        try:
            params["variables"] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    return request_from_params(params)


def request_from_post(body: bytes) -> GraphQLRequest | None:
    try:
        return request_from_params(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None


def body_is_cacheable(body: bytes) -> bool:
    """No errors, or only errors that follow from data and visibility; orjson writes no spaces."""
    if b'"errors":' not in body:
        return True
    errors = orjson.loads(body).get("errors")
    if not errors:
        return True
    return all((e.get("extensions") or {}).get("code") in _DETERMINISTIC_ERRORS for e in errors)


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
        json = self.content_type.startswith("application/json")
        if self.status != 200 or not json or self.encoded:
            return False
        return cache.fits(key, sum(map(len, self.chunks))) and body_is_cacheable(self.body)


def _clearing(cache: ResponseCache, send: Send) -> Send:
    """Read-your-writes in this process: the mutation has committed before its response starts, and
    its notification may arrive after the client's next query; the notification still clears later."""

    async def clearing(message: Message) -> None:
        if message["type"] == "http.response.start":
            cache.invalidate()
        await send(message)

    return clearing


async def _send_hit(send: Send, body: bytes) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-fir-cache", b"hit"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def current_generation(resources: Resources) -> int | None:
    """The generation to serve and store under; None when freshness cannot be established.

    While the listener is healthy the cache's version is current and this costs nothing; otherwise
    notifications may be missed, so the committed version is read on every request until it recovers.
    """
    cache: ResponseCache = resources.cache
    listener = resources.listener
    if listener is None or not listener.healthy:
        try:
            cache.reset(await current_version(resources.pool))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return None
    return cache.generation


async def _request_of(scope: Scope, receive: Receive, limit: int) -> tuple[GraphQLRequest | None, Receive]:
    """The GraphQL request if it might be cacheable, and the receive channel for the endpoint."""
    headers = Headers(scope=scope)
    if not _wants_cache(scope, headers):
        return None, receive
    if scope["method"] == "GET":
        return request_from_get(scope), receive
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # not worth reading: strawberry reads it itself
        return None, receive
    messages, body = await _read_body(receive)
    request = request_from_post(body) if len(body) <= limit else None
    return request, _replay(messages, receive)


async def serve(
    resources: Resources, principal: Principal, scope: Scope, receive: Receive, send: Send, endpoint: ASGIApp
) -> None:
    """Answer from the cache when the query's answer at the current data version is known."""
    cache: ResponseCache = resources.cache
    limit = cache.max_bytes // _OVERSIZE_FRACTION  # a request this large could not be stored anyway
    request, receive = await _request_of(scope, receive, limit)
    max_tokens = resources.settings.max_tokens
    if request is not None and operation_type(request, max_tokens) is OperationType.MUTATION:
        await endpoint(scope, receive, _clearing(cache, send))
        return
    key = cache_key(request, principal, max_tokens) if request else None
    generation = await current_generation(resources) if key else None
    if key is None or generation is None:
        await endpoint(scope, receive, send)
        return
    hit = cache.get(key)
    if hit is not None:
        await _send_hit(send, hit)
        return
    await _store_after(cache, key, generation, lambda s: endpoint(scope, receive, s), send)


async def _store_after(
    cache: ResponseCache, key: CacheKey, generation: int, run: Callable[[Send], Any], send: Send
) -> None:
    capture = _Capture(send)
    await run(capture)
    if capture.cacheable(cache, key):
        cache.put(key, capture.body, generation)
