"""gateway/media.py: the Accept negotiation, and what it remembers."""

from __future__ import annotations

from gateway import media
from gateway.media import GRAPHQL_RESPONSE, JSON, response_media_type


def test_the_negotiation() -> None:
    assert response_media_type(None) == JSON
    assert response_media_type("*/*") == JSON
    assert (
        response_media_type("application/graphql-response+json, application/json;q=0.9") == GRAPHQL_RESPONSE
    )
    assert response_media_type("application/json, application/graphql-response+json;q=0.5") == JSON


def test_a_long_accept_is_negotiated_but_never_remembered() -> None:
    """Anyone, before authentication, chooses the header: a remembered value would stay for good."""
    media._remembered.cache_clear()
    padding = "x" * (media.CACHED_ACCEPT_LENGTH + 1)
    for n in range(5):
        assert (
            response_media_type(f"application/graphql-response+json, text/{padding}{n}") == GRAPHQL_RESPONSE
        )
    assert media._remembered.cache_info().currsize == 0
    assert response_media_type("application/graphql-response+json") == GRAPHQL_RESPONSE
    assert media._remembered.cache_info().currsize == 1
