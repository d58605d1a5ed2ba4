"""Trusted documents over WebSocket: both protocols resolve an operation's id, or refuse it, as HTTP does.

They extend the handlers that cap subscriptions per connection (gateway.websocket_limits)."""

from __future__ import annotations

from typing import Any

from gateway.authn import resources_of
from gateway.trusted_documents import Refused, RequestData
from gateway.websocket_limits import LegacyWsHandler, TransportWsHandler
from resolvers.context import Context


async def _resolve(context: Context, payload: dict[str, Any]) -> None:
    """Fill in payload["query"] from the registry; Refused when the caller may not run it, or when
    the payload's query or operationName is not a string (as HTTP refuses them: over WebSocket a
    number was a masked INTERNAL error, or an operation completed without a word)."""
    for name in ("query", "operationName"):
        if not isinstance(payload.get(name), str | None):
            raise Refused("BAD_USER_INPUT", f"{name} must be a string or null")
    data = RequestData(
        query=payload.get("query"),
        variables=payload.get("variables"),
        operation_name=payload.get("operationName"),
        extensions=payload.get("extensions"),
        document_id=payload.get("documentId"),
    )
    trusted = resources_of(context.request).trusted_documents
    resolved = await trusted.resolve(context.loaders.db, context.principal, data)
    payload["query"] = resolved.query


# graphql-transport-ws closes the connection on a message it cannot read (its "Invalid message")
CLOSE_INVALID_MESSAGE = 4400


def malformed(message: Any) -> str | None:
    """Why an operation message (subscribe, start) cannot be read, or None: strawberry indexes its id
    and payload unchecked, and a payload that was not an object escaped the app as a TypeError (1006)."""
    if not isinstance(message.get("id"), str):
        return "an operation message needs a string id"
    if not isinstance(message.get("payload"), dict):
        return "an operation message's payload must be an object"
    return None


class TransportWSHandler(TransportWsHandler):
    """graphql-transport-ws: a refused operation gets an `error` message; the connection stays open."""

    async def handle_subscribe(self, message: Any) -> None:
        problem = malformed(message)
        if problem is not None:
            await self.websocket.close(CLOSE_INVALID_MESSAGE, problem)
            return
        if self.connection_acknowledged:
            try:
                await _resolve(self.context, message["payload"])
            except Refused as refused:
                errors = [e.formatted for e in refused.result().errors or []]
                await self.send_message({"id": message["id"], "type": "error", "payload": errors})
                return
        await super().handle_subscribe(message)


class LegacyWSHandler(LegacyWsHandler):
    """graphql-ws (subscriptions-transport-ws): the same, with that protocol's `error` message."""

    async def handle_start(self, message: Any) -> None:
        problem = malformed(message)
        if problem is not None and not isinstance(message.get("id"), str):  # no operation to answer
            await self.websocket.close(CLOSE_INVALID_MESSAGE, problem)
            return
        if problem is not None or self.connection_acknowledged:
            try:
                if problem is not None:
                    raise Refused("BAD_USER_INPUT", problem)
                await _resolve(self.context, message["payload"])
            except Refused as refused:
                [error] = refused.result().errors or []
                await self.send_message({"id": message["id"], "type": "error", "payload": error.formatted})
                return
        await super().handle_start(message)
