"""Authentication at the edge: one token check per request, a 401 for a bad token, never a fallback."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import HTTPConnection
from starlette.responses import Response

from gateway.auth.tokens import authenticate as principal_of
from gateway.auth.tokens import www_authenticate
from gateway.media import JSON, content_type, is_graphql_response
from gateway.resources import Resources
from resolvers.access import Rule
from resolvers.errors import IssuerUnavailable, Unauthenticated
from resolvers.principal import Principal


async def authenticate(resources: Resources, authorization: str | None) -> Principal:
    return await principal_of(resources.verifier, authorization)


def unauthenticated_response(error: Unauthenticated, media_type: str = JSON) -> Response:
    """401 with WWW-Authenticate for a refused token; 503 with Retry-After for one that cannot be checked
    while its issuer is unreachable (IssuerUnavailable), so clients retry rather than drop the token."""
    body: dict[str, Any] = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    if not is_graphql_response(media_type):
        body = {"data": None, **body}
    if isinstance(error, IssuerUnavailable):
        status, headers = 503, {"Retry-After": str(error.retry_after)}
    else:
        status, headers = 401, {"WWW-Authenticate": www_authenticate(error)}
    return Response(
        orjson.dumps(body), status_code=status, media_type=content_type(media_type), headers=headers
    )


def resources_of(conn: HTTPConnection) -> Resources:
    found: Resources = conn.state.resources
    return found


async def route_caller(request: HTTPConnection, rule: Rule, needs: str) -> Principal | Response:
    """The caller of an HTTP route outside GraphQL (schema.access.ROUTES), or the answer to send instead:
    401 for a bad or missing token, 403 for one the route's rule refuses. `needs` completes "… needs a
    token with scope fir:read" in the message ("the FIR spreadsheet")."""
    try:
        principal = await authenticate(resources_of(request), request.headers.get("authorization"))
    except Unauthenticated as error:
        return unauthenticated_response(error)
    message = f"{needs} needs a token with scope fir:read"
    if principal.anonymous:
        return _refused(401, "UNAUTHENTICATED", message, {"WWW-Authenticate": www_authenticate(None)})
    if not rule.allows(principal, None):
        return _refused(403, "FORBIDDEN", message)
    return principal


def _refused(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)
