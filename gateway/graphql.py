"""The GraphQL endpoint: strawberry's ASGI view with our context, orjson and authentication."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from gateway.authn import authenticate, resources_of, unauthenticated_response
from gateway.cache import serve as serve_cached
from gateway.context import build_context
from resolvers.context import Context
from resolvers.errors import Unauthenticated
from resolvers.principal import ANONYMOUS


class GraphQLEndpoint(GraphQL[Context, None]):
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        return orjson.loads(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            try:
                scope.setdefault("state", {})["principal"] = await authenticate(
                    resources_of(request), request.headers.get("authorization")
                )
            except Unauthenticated as error:
                await unauthenticated_response(error)(scope, receive, send)
                return
            resources = resources_of(request)
            if resources.cache is not None:
                principal = scope["state"]["principal"]
                await serve_cached(resources, principal, scope, receive, send, super().__call__)
                return
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
        return build_context(resources_of(request), principal, request, response)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Subscriptions authenticate once, at connection_init: the token travels in its payload."""
        try:
            authorization = _ws_authorization(context)
            context.principal = await authenticate(resources_of(context.request), authorization)
        except Unauthenticated as error:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": error.message}) from None
        return None


def _ws_authorization(context: Context) -> str | None:
    """The payload's Authorization (either case), else the upgrade request's header.

    A payload that names Authorization with anything but a string is refused, never read as no token.
    """
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    names = [name for name in ("Authorization", "authorization") if name in params]
    if not names:
        return context.request.headers.get("authorization") if context.request is not None else None
    value = params[names[0]]
    if not isinstance(value, str):
        raise Unauthenticated("connection_init Authorization must be a string")
    return value
