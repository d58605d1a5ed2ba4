"""WebSocket caps: connections per principal (close 4429), subscriptions per connection
(TOO_MANY_SUBSCRIPTIONS), the size of one message, by caller (close 1009), and the connection's
lifetime, which ends with its token's (close 4403)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import MutableMapping
from typing import Any, cast

from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from resolvers.context import Context
from resolvers.principal import Principal

TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# graphql-transport-ws leaves 4400-4499 to the server; 4429 mirrors HTTP 429.
CLOSE_TOO_MANY_CONNECTIONS = 4429
_REFUSAL = "fir_ws_refusal"
_SLOT = "fir_ws_slot"
_MESSAGE_CAP = "fir_ws_message_cap"
# graphql-transport-ws: no connection_init within the init timeout; a second connection_init.
CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY_INITS = 4429
# RFC 6455: the endpoint received a message too big for it to process.
CLOSE_MESSAGE_TOO_BIG = 1009
# IANA's WebSocket close code 1013, Try Again Later: the token could not be checked (issuer unreachable).
CLOSE_TRY_AGAIN_LATER = 1013


_EXPIRES_AT = "fir_ws_expires_at"
_EXPIRY = "fir_ws_expiry"
# as strawberry closes a connection_init whose token is refused: 4403 Forbidden
CLOSE_TOKEN_EXPIRED = 4403
EXPIRED_REASON = "the token has expired"


def close_at_expiry(scope: MutableMapping[str, Any], websocket: WebSocket, expires_at: float | None) -> None:
    """An authenticated connection ends when its token does (`exp` plus the verifier's leeway, as a
    Unix time): a timer closes it with 4403, and every operation asked after that is refused with the
    same close, should the timer be late. None (anonymous, or no `exp`): no expiry."""
    if expires_at is None:
        return
    state = scope.setdefault("state", {})
    state[_EXPIRES_AT] = expires_at
    loop = asyncio.get_running_loop()

    def expire() -> None:
        state[_EXPIRY] = loop.create_task(_close_expired(websocket))

    state[_EXPIRY] = loop.call_later(max(0.0, expires_at - time.time()), expire)


def expired(scope: MutableMapping[str, Any]) -> bool:
    expires_at = scope.get("state", {}).get(_EXPIRES_AT)
    return expires_at is not None and time.time() >= expires_at


def cancel_expiry(scope: MutableMapping[str, Any]) -> None:
    """When the connection has ended: its timer (or the close it started) goes with it."""
    pending = scope.get("state", {}).pop(_EXPIRY, None)
    if pending is not None:
        pending.cancel()


async def _close_expired(websocket: Any) -> None:
    with contextlib.suppress(Exception):  # already closing or gone: nothing left to end
        await websocket.close(CLOSE_TOKEN_EXPIRED, EXPIRED_REASON)


def cap_messages(scope: MutableMapping[str, Any], limit: int) -> None:
    """The largest message (in characters) this connection may send from now on: the anonymous body cap
    until connection_init has authenticated it, then its caller's (InputCaps.body_bytes)."""
    scope.setdefault("state", {})[_MESSAGE_CAP] = limit


def connection_owner(principal: Principal, client: tuple[str, int] | None) -> str:
    """Who a connection counts against: the token's subject, or the address of an anonymous caller."""
    if principal.subject is not None:
        return f"sub:{principal.subject}"
    return f"anonymous:{client[0] if client else '?'}"


def refuse_with(scope: MutableMapping[str, Any], code: int, reason: str) -> None:
    """The close code and reason for the connection_init refusal about to be raised (WebSocketAdapter),
    in place of strawberry's 4403 Forbidden. `reason` is at most 123 bytes (RFC 6455)."""
    scope.setdefault("state", {})[_REFUSAL] = (code, reason)


class ConnectionSlots:
    """Open WebSocket connections per owner, in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def take(self, scope: MutableMapping[str, Any], owner: str) -> bool:
        if self.open[owner] >= self.limit:
            refuse_with(scope, CLOSE_TOO_MANY_CONNECTIONS, f"at most {self.limit} connections per caller")
            return False
        self.open[owner] += 1
        scope.setdefault("state", {})[_SLOT] = owner
        return True

    def give_back(self, scope: MutableMapping[str, Any]) -> None:
        owner = scope.get("state", {}).pop(_SLOT, None)
        if owner is not None:
            self.open[owner] -= 1
            if self.open[owner] <= 0:
                del self.open[owner]


class WebSocketAdapter(ASGIWebSocketAdapter):
    """strawberry closes every rejected connection_init with 4403 Forbidden; a refusal recorded
    for this connection (too many connections) closes with its own code and reason instead.

    A message over the connection's cap (cap_messages) closes it with 1009 before it is decoded: the
    same caps as an HTTP body, so a WebSocket is no way around them.
    """

    def __init__(self, view: Any, request: WebSocket, response: WebSocket) -> None:
        super().__init__(view, request, response)
        self.ws = cast(WebSocket, _CappedSocket(response))

    async def close(self, code: int, reason: str) -> None:
        refusal = self.ws.scope.get("state", {}).pop(_REFUSAL, None)
        if refusal is not None:
            code, reason = refusal
        await super().close(code, reason)


class _CappedSocket:
    """The connection as strawberry's adapter reads it, each text message held to the cap first."""

    def __init__(self, ws: WebSocket) -> None:
        self._ws = ws

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    async def receive_text(self) -> str:
        text: str = await self._ws.receive_text()
        limit = self._ws.scope.get("state", {}).get(_MESSAGE_CAP)
        if limit is not None and len(text) > limit:
            await self._ws.close(CLOSE_MESSAGE_TOO_BIG, f"a message may hold at most {limit} characters")
            raise WebSocketDisconnect(CLOSE_MESSAGE_TOO_BIG)  # strawberry's adapter: the connection ended
        return text


def _limit_error(limit: int) -> dict[str, Any]:
    return {
        "message": f"at most {limit} subscriptions per connection",
        "extensions": {"code": TOO_MANY_SUBSCRIPTIONS, "limit": limit},
    }


class TransportWsHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's own cap answers a bare "Subscription limit reached"; ours carries a code."""

    async def handle_subscribe(self, message: Any) -> None:
        if expired(self.context.request.scope):
            await self.websocket.close(CLOSE_TOKEN_EXPIRED, EXPIRED_REASON)
            return
        limit = self.max_subscriptions_per_connection
        full = limit is not None and len(self.operations) >= limit
        if self.connection_acknowledged and message["id"] not in self.operations and full:
            assert limit is not None
            error: Any = {"id": message["id"], "type": "error", "payload": [_limit_error(limit)]}
            await self.send_message(error)
            return
        await super().handle_subscribe(message)


class LegacyWsHandler(BaseGraphQLWSHandler[Context, None]):
    """The same for the legacy graphql-ws protocol, with what graphql-transport-ws has and strawberry's
    legacy handler lacks: one connection_init per connection (each took a connection slot and only
    the last was given back, locking a caller out for good), and an init timeout (a connection that
    never sent connection_init stayed open, uncounted, for ever)."""

    async def handle(self) -> None:
        timer = asyncio.create_task(self._init_timeout())
        try:
            await super().handle()
        finally:
            timer.cancel()

    async def _init_timeout(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            with contextlib.suppress(Exception):  # already closing or gone
                await self.websocket.close(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")

    async def handle_connection_init(self, message: Any) -> None:
        if self._init_seen:
            await self.websocket.close(CLOSE_TOO_MANY_INITS, "Too many initialisation requests")
            return
        self._init_seen = True
        await super().handle_connection_init(message)

    _init_seen = False

    async def handle_start(self, message: Any) -> None:
        if expired(self.context.request.scope):
            await self.websocket.close(CLOSE_TOKEN_EXPIRED, EXPIRED_REASON)
            return
        limit = self.max_subscriptions_per_connection
        full = limit is not None and len(self.tasks) >= limit
        if self.connection_acknowledged and message["id"] not in self.tasks and full:
            assert limit is not None
            error: Any = {"type": "error", "id": message["id"], "payload": _limit_error(limit)}
            await self.send_message(error)
            return
        await super().handle_start(message)
