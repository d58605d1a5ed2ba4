"""The GraphQL endpoint: strawberry's ASGI view with our context, orjson, authentication and HTTP rules."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from gateway import fast_lane, graphiql
from gateway.authn import authenticate, unauthenticated_response
from gateway.body_limit import BodyTooLarge, capped, declared_too_large
from gateway.cache import serve as serve_cached
from gateway.context import build_context, caps_of
from gateway.media import GRAPHQL_RESPONSE, content_type, is_graphql_response, response_media_type
from gateway.metrics import FAST_LANE
from gateway.refusals import RequestRefused, refusal_response, shorten
from gateway.replicas import HEADER as READ_AFTER
from gateway.replicas import ReadChoice, format_read_after, parse_read_after
from gateway.request_body import loads, read_body, read_request_body, release_body, release_request_body
from gateway.resources import Resources
from gateway.trusted_documents import Refused, RequestData
from gateway.trusted_ws import LegacyWSHandler, TransportWSHandler
from gateway.websocket_limits import (
    CLOSE_TRY_AGAIN_LATER,
    TOO_MANY_CONNECTIONS,
    ConnectionSlots,
    WebSocketAdapter,
    cancel_expiry,
    cap_messages,
    close_at_expiry,
    connection_owner,
    refuse_with,
)
from resolvers.context import Context
from resolvers.errors import IssuerUnavailable, ServiceUnavailable, Unauthenticated
from resolvers.principal import ANONYMOUS

# Subscriptions are served over WebSocket only; GET never changes anything (GraphQL over HTTP).
HTTP_OPERATIONS = {
    "GET": {OperationType.QUERY},
    "POST": {OperationType.QUERY, OperationType.MUTATION},
}
_OPERATION_WORDS = {
    OperationType.QUERY: "a query",
    OperationType.MUTATION: "a mutation",
    OperationType.SUBSCRIPTION: "a subscription",
}


def media_type_of(scope: Scope) -> str:
    media: str = scope.get("state", {}).get("media_type") or response_media_type(None)
    return media


def is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution (parse, validation, variable coercion, input caps): no data, no path."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or ())


RETRY_AFTER_SECONDS = "1"  # the embedded database restarts within this; a failover takes a few retries


def _unavailable(data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bool:
    for item in data if isinstance(data, list) else [data]:
        errors = cast("list[dict[str, Any]]", item.get("errors") or [])
        if any((e.get("extensions") or {}).get("code") == ServiceUnavailable.code for e in errors):
            return True
    return False


class GraphQLEndpoint(GraphQL[Context, None]):
    websocket_adapter_class = WebSocketAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self,
        *args: Any,
        ws_max_connections: int = 20,
        ws_max_subscriptions: int = 20,
        fast_lane: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ws_slots = ConnectionSlots(ws_max_connections)
        self.max_subscriptions_per_connection = ws_max_subscriptions
        self.fast_lane = fast_lane

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        return json_object(data, "body")

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = json_object(parsed[name], name)
        return parsed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            cap_messages(scope, caps_of(resources_in_scope(scope)).anonymous.body_bytes)
            try:
                await super().__call__(scope, receive, send)
            finally:
                self.ws_slots.give_back(scope)
                cancel_expiry(scope)
            return
        request = Request(scope, receive)
        accept, authorization, read_after = fast_lane.headers(
            scope, b"accept", b"authorization", READ_AFTER_HEADER
        )
        media = response_media_type(accept)
        scope.setdefault("state", {})["media_type"] = media
        resources = resources_in(request)
        try:
            principal = await authenticate(resources, authorization)
        except Unauthenticated as error:
            await unauthenticated_response(error, media)(scope, receive, send)
            return
        scope["state"]["principal"] = principal
        limit = caps_of(resources).of(principal).body_bytes
        try:
            await route_reads(resources, request, read_after)
            if declared_too_large(scope, limit):
                raise BodyTooLarge(limit)
            receive = capped(receive, limit)
            if resources.cache is not None:
                await serve_cached(resources, principal, scope, receive, send, self._serve)
            else:
                await self._serve(scope, receive, send)
        except BodyTooLarge as error:
            refused = RequestRefused(413, str(error), field="body", limit=error.limit)
            await refusal_response(refused, media)(scope, receive, send)
        except RequestRefused as refused:
            await refusal_response(refused, media)(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """strawberry's HTTP handling, with every refusal answered as a GraphQL error, never plain text;
        the usual POST takes the fast lane (`_run_fast`), which answers it as strawberry's view would."""
        request = Request(scope, receive)
        try:
            response = None
            if self.fast_lane and fast_lane.takes(request, bool(self._stream_transport_map)):
                response = await self._run_fast(request)
            if response is None:
                response = await self.run(request)
        except HTTPException as error:
            response = refusal_response(error, media_type_of(scope))
        await response(scope, receive, send)

    async def _run_fast(self, request: Request) -> Response | None:
        """`run` for one JSON operation: the same hooks in the same order, minus the view's generic
        dispatch (request adapter, content negotiation for streams, the second look for documentId).
        None (the body read and kept) when the request is anything else: `run` then answers it."""
        await read_request_body(request)
        data = fast_lane.request_data(request._body)
        if data is None:
            return None
        FAST_LANE.inc()
        release_request_body(request)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        result = await self._execute(request, "POST", sub_response, context, None, data)
        processed = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, processed)
        response = self.create_response(processed, sub_response)
        self._apply_media_type(request, response)
        return response

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        response = await super().run(request, context, root_value)
        if isinstance(request, Request) and isinstance(response, Response):
            self._apply_media_type(request, response)
        return response

    def _apply_media_type(self, request: Request, response: Response) -> None:
        media = media_type_of(request.scope)
        if not is_graphql_response(media) or response.media_type != "application/json":
            return
        response.headers["content-type"] = content_type(GRAPHQL_RESPONSE)
        if request.scope["state"].get("request_error") and response.status_code == 200:
            response.status_code = 400

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if isinstance(request, Request) and is_request_error(result):
            request.scope["state"]["request_error"] = True
            if is_graphql_response(media_type_of(request.scope)):
                processed.pop("data", None)  # application/graphql-response+json: no data on a request error
        return processed

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type != "application/json":
                raise RequestRefused(415, "POST a GraphQL request as application/json", field="content-type")
            await read_body(request)
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise RequestRefused(400, "operationName must be a string or null", field="operationName")
        parsed = await self._with_document_id(request, data)
        release_body(request)
        return parsed

    async def _with_document_id(self, request: AsyncHTTPRequestAdapter, data: Any) -> Any:
        """Keep the top-level `documentId` (trusted documents) that strawberry's parser drops, with
        `query` text or without: the id decides what runs (the text is ignored, or checked against
        an unknown id), as the response cache keys it. Dropped beside text, the text ran and was
        cached as the registered document's answer, for every caller asking by that id."""
        if not isinstance(data, GraphQLRequestData):
            return data
        if request.method == "GET":
            document_id = request.query_params.get("documentId")
        else:
            raw = self.parse_json(await request.get_body())
            document_id = raw.get("documentId")
        return RequestData(**asdict(data), document_id=document_id)

    async def execute_single(
        self,
        request: Any,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """strawberry's view calls this; the fast lane calls `_execute` itself."""
        return await self._execute(
            request, request_adapter.method, sub_response, context, root_value, request_data
        )

    async def _execute(
        self,
        request: Any,
        method: str,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A request by id runs the registered document; a caller restricted to trusted documents
        runs nothing else. Both are decided before the document is parsed."""
        trusted = resources_in(request).trusted_documents
        try:
            request_data = await trusted.resolve(context.loaders.db, context.principal, request_data)
        except Refused as refused:
            return refused.result()
        try:
            result = await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATIONS.get(method, set()),
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise operation_not_found(error.operation_name) from None
        except InvalidOperationTypeError as error:
            raise operation_not_allowed(error.operation_type, method) from None
        except MissingQueryError:
            raise RequestRefused(400, "no GraphQL query found in the request", field="query") from None
        hand_back_write_mark(context, sub_response)
        return result

    def should_render_graphql_ide(self, request: Any) -> bool:
        """A GET by document id is a query, not a browser asking for GraphiQL."""
        by_id = any(request.query_params.get(k) is not None for k in ("documentId", "extensions"))
        return not by_id and super().should_render_graphql_ide(request)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """A database outage is HTTP 503 with Retry-After, so clients and proxies retry instead of failing."""
        response = super().create_response(response_data, sub_response)
        if _unavailable(response_data):
            response.status_code = 503
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
        context = build_context(resources_in(request), principal, request, response)
        context.owns_input = isinstance(request, Request)  # variables parsed from its body, by parse_json
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Subscriptions authenticate once, at connection_init: the token travels in its payload."""
        try:
            authorization = _ws_authorization(context)
            context.principal = await authenticate(resources_in(context.request), authorization)
        except Unauthenticated as error:
            if isinstance(error, IssuerUnavailable):
                refuse_with(
                    context.request.scope, CLOSE_TRY_AGAIN_LATER, "token issuer unreachable: retry shortly"
                )
            raise ConnectionRejectionError({"code": error.code, "message": error.message}) from None
        scope = context.request.scope
        resources = resources_in(context.request)
        cap_messages(scope, caps_of(resources).of(context.principal).body_bytes)
        if not self.ws_slots.take(scope, connection_owner(context.principal, scope.get("client"))):
            message = f"at most {self.ws_slots.limit} connections per caller"
            raise ConnectionRejectionError({"code": TOO_MANY_CONNECTIONS, "message": message})
        if resources.verifier is not None:
            close_at_expiry(scope, context.request, resources.verifier.expires_at(context.principal))
        return None


def resources_in(conn: Any) -> Resources:
    """`authn.resources_of`, read from the scope: the request's `state` object is not built for it."""
    return resources_in_scope(conn.scope)


def resources_in_scope(scope: Scope) -> Resources:
    found: Resources = scope["state"]["resources"]
    return found


READ_AFTER_HEADER = READ_AFTER.lower().encode()


async def route_reads(resources: Any, request: Request, token: str | None) -> None:
    """The FIR-Read-After token the request echoes, which the response cache honours; with read replicas,
    also the request's ReadChoice (the token clamped to where the primary stands: README, Read
    replicas). Without them reads go to the primary, which has every commit."""
    try:
        after = parse_read_after(token) if token is not None else None
    except ValueError as error:
        raise RequestRefused(400, f"{READ_AFTER}: {error}", field=READ_AFTER) from None
    if resources.replicas is None:
        request.scope["state"]["read_after"] = after
        return
    if after is not None:
        after = await resources.replicas.bound(after)
    request.scope["state"]["read_after"] = after
    request.scope["state"]["reads"] = ReadChoice(resources.replicas, after)


def hand_back_write_mark(context: Context, sub_response: Any) -> None:
    """After a write, the token that lets this client read it back from a replica (README, Read replicas)."""
    marks = context.loaders.db.marks
    if marks is not None and marks.last is not None and isinstance(sub_response, Response):
        sub_response.headers[READ_AFTER] = format_read_after(marks.last)


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


def json_object(data: str | bytes, field: str) -> dict[str, Any]:
    """A GraphQL request (or its variables, or extensions) is a JSON object; anything else is refused."""
    try:
        value = loads(data)
    except ValueError:  # orjson's JSONDecodeError among them
        raise RequestRefused(400, f"{field} is not valid JSON", field=field) from None
    if not isinstance(value, dict):
        raise RequestRefused(400, f"{field} must be a JSON object, got {type_name(value)}", field=field)
    return value


def type_name(value: object) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value), "an array")


def operation_not_found(name: str | None) -> RequestRefused:
    if name is None:
        message = "the document holds several operations (or none): name the one to run in operationName"
    else:
        message = f"the document has no operation named {shorten(name)!r}"
    return RequestRefused(400, message, code="GRAPHQL_VALIDATION_FAILED", field="operationName")


def operation_not_allowed(operation: OperationType, method: str) -> RequestRefused:
    what = _OPERATION_WORDS[operation]
    if operation is OperationType.SUBSCRIPTION:
        message = f"{what} is served over WebSocket at /graphql (graphql-transport-ws or graphql-ws), not HTTP {method}"
        return RequestRefused(400, message, code="GRAPHQL_VALIDATION_FAILED")
    message = f"{what} cannot be sent with HTTP {method}; use POST"
    return RequestRefused(405, message, code="GRAPHQL_VALIDATION_FAILED", headers={"Allow": "POST"})
