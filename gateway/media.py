"""GraphQL over HTTP media types: which one a response is served as, from the request's Accept header."""

from __future__ import annotations

from functools import lru_cache

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# Ties go to the first: the GraphQL over HTTP spec's own type says more (its status codes).
_SERVED = (GRAPHQL_RESPONSE, JSON)


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def _accepted(accept: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = item.split(";")
        media = media.strip().lower()
        if media:
            found[media] = max(found.get(media, 0.0), _quality(params))
    return found


# Only short values are remembered: a header's size is not capped before this runs (nor is the
# caller authenticated yet), so remembering any value would let anyone pin 256 of them, megabytes each.
CACHED_ACCEPT_LENGTH = 256


def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the client asks for it (and prefers it at least as much
    as application/json); application/json otherwise, for a missing Accept, */* and older clients."""
    if accept is not None and len(accept) > CACHED_ACCEPT_LENGTH:
        return _negotiate(accept)
    return _remembered(accept)


@lru_cache(maxsize=256)  # a client sends the same Accept on every request
def _remembered(accept: str | None) -> str:
    return _negotiate(accept)


def _negotiate(accept: str | None) -> str:
    accepted = _accepted(accept or "")
    best = max(_SERVED, key=lambda media: accepted.get(media, 0.0))
    return best if accepted.get(best, 0.0) > 0 else JSON


def is_graphql_response(media_type: str) -> bool:
    return media_type == GRAPHQL_RESPONSE


def content_type(media_type: str) -> str:
    """The Content-Type header for a served media type (the spec's type says its charset)."""
    return f"{media_type}; charset=utf-8" if is_graphql_response(media_type) else media_type
