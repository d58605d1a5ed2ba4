"""The verified-token cache: one verification per token and minute, never past the token's expiry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.auth.tokens import TokenVerifier
from gateway.auth.verified import VerifiedTokens
from resolvers.errors import Unauthenticated
from resolvers.principal import Principal
from tests.gateway.issuer import LocalIssuer, make_settings, running_issuer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def principal(exp: float | None) -> Principal:
    return Principal(subject="s", claims={} if exp is None else {"exp": exp})


def test_entries_end_at_ttl_or_expiry_whichever_first() -> None:
    clock = Clock()
    cache = VerifiedTokens(max_entries=10, ttl=60, leeway=5, clock=clock)
    cache.put("long", principal(clock.now + 3600))
    cache.put("short", principal(clock.now + 10))
    cache.put("expired", principal(clock.now - 10))
    assert cache.get("expired") is None
    clock.now += 14
    assert cache.get("short") is not None  # within exp + leeway
    clock.now += 2
    assert cache.get("short") is None
    assert cache.get("long") is not None
    clock.now += 60
    assert cache.get("long") is None


def test_bounded_least_recently_used() -> None:
    cache = VerifiedTokens(max_entries=2, ttl=60)
    for token in ("a", "b"):
        cache.put(token, principal(None))
    assert cache.get("a") is not None
    cache.put("c", principal(None))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    off = VerifiedTokens(max_entries=0)
    off.put("a", principal(None))
    assert off.get("a") is None


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with running_issuer() as served:
        yield served


async def test_verifier_verifies_a_token_once_but_still_refuses_forgeries(
    issuer: LocalIssuer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, verified_tokens_max=100)
    async with TokenVerifier(settings, issuer.url) as verifier:
        token = issuer.token(scope="fir:read", exp=int(time.time()) + 600)
        first = await verifier.authenticate(f"Bearer {token}")
        assert await verifier.authenticate(f"Bearer {token}") is first  # the cached Principal
        with pytest.raises(Unauthenticated):
            await verifier.authenticate(f"Bearer {token[:-3]}abc")  # another string: verified in full
