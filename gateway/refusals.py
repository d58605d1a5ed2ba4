"""Requests refused at the HTTP edge, answered as GraphQL errors (a status, a code, never plain text)."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.responses import Response

from gateway.media import content_type, is_graphql_response

# What an error message may quote of the caller's input: enough to recognise it, never all of it.
QUOTE_LIMIT = 80

# strawberry's own refusals carry a status and a sentence; these are the caller's fault.
_CODES_BY_STATUS = {405: "GRAPHQL_VALIDATION_FAILED"}


class RequestRefused(HTTPException):
    """A request the endpoint refuses before GraphQL runs, with the code and field a client can act on."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str = "BAD_USER_INPUT",
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(status_code, message)
        self.extensions: dict[str, object] = {"code": code, **({"field": field} if field else {}), **extra}
        self.headers = headers or {}


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def refusal_response(error: HTTPException, media_type: str) -> Response:
    if isinstance(error, RequestRefused):
        extensions, headers = error.extensions, error.headers
    else:
        extensions = {"code": _CODES_BY_STATUS.get(error.status_code, "BAD_USER_INPUT")}
        headers = {}
    body: dict[str, Any] = {"errors": [{"message": error.reason, "extensions": extensions}]}
    if not is_graphql_response(media_type):
        body = {"data": None, **body}
    return Response(
        orjson.dumps(body),
        status_code=error.status_code,
        media_type=content_type(media_type),
        headers=headers,
    )
