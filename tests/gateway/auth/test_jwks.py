"""The JWKS cache against a real issuer: rotation, TTL, single flight, minimum interval, provider outages."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import OctKey
from joserfc.util import int_to_base64

from gateway.auth.discovery import discovery_url, parse_metadata
from gateway.auth.jwks import JwksCache, KeysUnavailable, import_signing_keys
from gateway.auth.tokens import TokenVerifier
from resolvers.errors import IssuerUnavailable, Unauthenticated
from tests.gateway.issuer import LocalIssuer, make_settings, new_key, running_issuer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def cache(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path, clock: Clock, **settings: Any
) -> JwksCache:
    options = {"jwks_ttl": 600, "jwks_min_refresh_interval": 10.0, **settings}
    return JwksCache(issuer.url, make_settings(tmp_path, **options), client, clock=clock)


async def test_new_kid_is_fetched_once(issuer: LocalIssuer, tmp_path: Path) -> None:
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        assert issuer.hits["jwks"] == 1
        assert (await verifier.authenticate(f"Bearer {issuer.token()}")).can_read
        assert issuer.hits["jwks"] == 1
        rotated = new_key("RSA")
        issuer.keys.append(rotated)
        for _ in range(3):
            assert (await verifier.authenticate(f"Bearer {issuer.token(key=rotated)}")).can_read
        assert issuer.hits["jwks"] == 2
        assert verifier.keys.attempts == 2


async def test_removed_kid_is_refused_after_a_refresh(issuer: LocalIssuer, tmp_path: Path) -> None:
    old, new = issuer.key, new_key("RSA")
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        old_token = issuer.token(key=old)
        assert (await verifier.authenticate(f"Bearer {old_token}")).can_read
        issuer.keys = [new]
        assert (await verifier.authenticate(f"Bearer {issuer.token(key=new)}")).can_read
        with pytest.raises(Unauthenticated, match="unknown key"):
            await verifier.authenticate(f"Bearer {old_token}")


async def test_ttl_expiry_refreshes_and_drops_removed_keys(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    clock = Clock()
    keys = cache(issuer, client, tmp_path, clock, jwks_ttl=60)
    old = issuer.key
    assert (await keys.keys_for(old.kid)).knows(old.kid)
    issuer.keys = [new_key("RSA")]
    clock.now += 59
    assert (await keys.keys_for(old.kid)).knows(old.kid)  # still fresh: no fetch
    assert issuer.hits["jwks"] == 1
    clock.now += 2
    assert not (await keys.keys_for(old.kid)).knows(old.kid)
    assert issuer.hits["jwks"] == 2


async def test_provider_down_keeps_the_last_good_set(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    keys = cache(issuer, client, tmp_path, clock, jwks_ttl=60)
    good = await keys.keys_for(issuer.key.kid)
    issuer.down = True
    clock.now += 61
    caplog.set_level(logging.WARNING)
    assert await keys.keys_for(issuer.key.kid) is good
    assert keys.attempts == 2
    assert "keeping the last good key set" in caplog.text
    clock.now += 10
    assert await keys.keys_for("rotated-while-down") is good
    assert keys.attempts == 3


async def test_provider_gone_entirely_keeps_the_last_good_set(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_issuer() as issuer:
        settings = make_settings(tmp_path, jwks_ttl=0)
        verifier = TokenVerifier(settings, issuer.url, timeout=2)
        await verifier.start()
        token = issuer.token()
        assert (await verifier.authenticate(f"Bearer {token}")).can_read
    caplog.set_level(logging.WARNING)
    try:
        # the server is stopped: connections are refused, every refresh fails
        assert (await verifier.authenticate(f"Bearer {token}")).can_read
        assert (await verifier.authenticate(f"Bearer {token}")).can_read
        assert verifier.keys.attempts >= 2
        assert "ConnectError" in caplog.text
        assert token not in caplog.text
    finally:
        await verifier.aclose()


async def test_provider_down_at_start_is_not_fatal(issuer: LocalIssuer, tmp_path: Path) -> None:
    issuer.down = True
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        with pytest.raises(IssuerUnavailable, match="cannot be fetched"):
            await verifier.authenticate(f"Bearer {issuer.token()}")
        issuer.down = False
        assert (await verifier.authenticate(f"Bearer {issuer.token()}")).can_read


async def test_a_kid_unknown_while_the_provider_is_down_is_not_called_bad(
    issuer: LocalIssuer, tmp_path: Path
) -> None:
    """The issuer may have rotated while unreachable: such a token cannot be checked (IssuerUnavailable,
    a 503), where with the issuer reachable a kid it does not publish is a bad token (401)."""
    async with TokenVerifier(make_settings(tmp_path, jwks_min_refresh_interval=0.0), issuer.url) as verifier:
        assert not verifier.keys.failing
        rotated = new_key("RSA")
        issuer.keys.append(rotated)
        issuer.down = True
        with pytest.raises(IssuerUnavailable, match="does not hold yet"):
            await verifier.authenticate(f"Bearer {issuer.token(key=rotated)}")
        assert verifier.keys.failing
        assert (await verifier.authenticate(f"Bearer {issuer.token()}")).can_read  # the held set still serves
        issuer.down = False
        assert (await verifier.authenticate(f"Bearer {issuer.token(key=rotated)}")).can_read
        assert not verifier.keys.failing
        with pytest.raises(Unauthenticated, match="unknown key") as refused:
            await verifier.authenticate(f"Bearer {issuer.token(key=new_key('RSA'))}")
        assert not isinstance(refused.value, IssuerUnavailable)


async def test_refetches_are_throttled_even_without_any_key(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Tokens arriving while the provider is down must not turn into as many fetches against it."""
    issuer.down = True
    clock = Clock()
    keys = cache(issuer, client, tmp_path, clock, jwks_min_refresh_interval=10.0)
    for _ in range(5):
        with pytest.raises(KeysUnavailable):
            await keys.keys_for(issuer.key.kid)
        clock.now += 1
    assert keys.attempts == 1
    assert issuer.hits["discovery"] == 1
    issuer.down = False
    clock.now += 5
    assert (await keys.keys_for(issuer.key.kid)).knows(issuer.key.kid)
    assert keys.attempts == 2


async def test_concurrent_unknown_kids_share_one_fetch(issuer: LocalIssuer, tmp_path: Path) -> None:
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        rotated = new_key("EC")
        issuer.keys.append(rotated)
        issuer.jwks_delay = 0.3
        before = dict(issuer.hits)
        tokens = [issuer.token(key=rotated, sub=f"user-{n}") for n in range(20)]
        principals = await asyncio.gather(*(verifier.authenticate(f"Bearer {t}") for t in tokens))
        assert [p.subject for p in principals] == [f"user-{n}" for n in range(20)]
        assert issuer.hits["jwks"] - before["jwks"] == 1
        assert issuer.hits["discovery"] - before["discovery"] == 1


async def test_concurrent_forged_kids_cause_one_fetch(issuer: LocalIssuer, tmp_path: Path) -> None:
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        issuer.jwks_delay = 0.2
        forged = [issuer.token(key=new_key("EC", kid=f"forged-{n}")) for n in range(10)]
        results = await asyncio.gather(
            *(verifier.authenticate(f"Bearer {t}") for t in forged), return_exceptions=True
        )
        assert all(isinstance(r, Unauthenticated) for r in results)
        assert issuer.hits["jwks"] == 2


async def test_cold_cache_concurrent_callers_share_one_fetch(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    issuer.jwks_delay = 0.2
    keys = cache(issuer, client, tmp_path, Clock())
    results = await asyncio.gather(*(keys.keys_for(issuer.key.kid) for _ in range(15)))
    assert len({id(r) for r in results}) == 1
    assert issuer.hits["jwks"] == 1


async def test_minimum_interval_between_refetches(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    clock = Clock()
    keys = cache(issuer, client, tmp_path, clock, jwks_min_refresh_interval=10.0)
    await keys.keys_for(None)
    assert keys.attempts == 1
    await keys.keys_for("unknown-1")
    assert keys.attempts == 1  # the first fetch was just now
    clock.now += 10
    await keys.keys_for("unknown-2")
    assert keys.attempts == 2
    clock.now += 5
    await keys.keys_for("unknown-3")
    assert keys.attempts == 2
    assert issuer.hits["jwks"] == 2


async def test_minimum_interval_through_the_verifier(issuer: LocalIssuer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, jwks_min_refresh_interval=3600.0)
    async with TokenVerifier(settings, issuer.url) as verifier:
        rotated = new_key("RSA")
        issuer.keys.append(rotated)
        # within the interval of the start-up fetch, a new kid is not fetched
        with pytest.raises(Unauthenticated, match="unknown key"):
            await verifier.authenticate(f"Bearer {issuer.token(key=rotated)}")
        assert issuer.hits["jwks"] == 1


async def test_known_kid_does_not_wait_for_a_slow_refresh(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    clock = Clock()
    keys = cache(issuer, client, tmp_path, clock, jwks_ttl=60, jwks_min_refresh_interval=0.0)
    await keys.keys_for(issuer.key.kid)
    issuer.jwks_delay = 1.0
    slow = asyncio.create_task(keys.keys_for("new-kid"))
    await asyncio.sleep(0.1)
    clock.now += 61  # stale, but a refresh is already under way
    started = time.monotonic()
    assert (await keys.keys_for(issuer.key.kid)).knows(issuer.key.kid)
    assert time.monotonic() - started < 0.5
    await slow


async def test_issuer_mismatch_in_discovery_is_refused(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.issuer_override = "http://127.0.0.1:1/realms/fir"
    caplog.set_level(logging.WARNING)
    with pytest.raises(KeysUnavailable):
        await cache(issuer, client, tmp_path, Clock()).keys_for(None)
    assert "expected" in caplog.text


async def test_issuer_with_trailing_slash(issuer: LocalIssuer, tmp_path: Path) -> None:
    # Auth0 publishes "https://tenant.auth0.com/"; FIR_OIDC_ISSUER loses the slash in the settings loader
    issuer.issuer_override = issuer.url + "/"
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        assert (await verifier.authenticate(f"Bearer {issuer.token(iss=issuer.url + '/')}")).can_read
        with pytest.raises(Unauthenticated, match="invalid iss"):
            await verifier.authenticate(f"Bearer {issuer.token(iss=issuer.url)}")


async def test_algorithms_are_intersected_with_the_advertised(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    issuer.algorithms = ["HS256", "none", "RS256", "PS512"]
    keys = await cache(
        issuer, client, tmp_path, Clock(), oidc_algorithms=("RS256", "ES256", "HS256")
    ).keys_for(None)
    assert keys.algorithms == {"RS256"}


async def test_no_common_algorithm_means_no_keys(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.algorithms = ["HS256", "none"]
    with pytest.raises(KeysUnavailable):
        await cache(issuer, client, tmp_path, Clock()).keys_for(None)
    assert "FIR_OIDC_ALGORITHMS" in caplog.text


async def test_unadvertised_algorithms_fall_back_to_configured(
    issuer: LocalIssuer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    issuer.algorithms = None
    keys = await cache(
        issuer, client, tmp_path, Clock(), oidc_algorithms=("RS256", "HS256", "none")
    ).keys_for(None)
    assert keys.algorithms == {"RS256"}


def test_discovery_url() -> None:
    assert discovery_url("https://t.auth0.com/") == "https://t.auth0.com/.well-known/openid-configuration"
    assert (
        discovery_url("https://login.microsoftonline.com/tid/v2.0")
        == "https://login.microsoftonline.com/tid/v2.0/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"issuer": "https://idp.example"},
        {"issuer": "https://idp.example", "jwks_uri": "http://idp.example/jwks"},
        {"issuer": "http://idp.example", "jwks_uri": "https://idp.example/jwks"},
        {"issuer": "https://idp.example", "jwks_uri": "https://idp.example/jwks", "foo": 1, "issuer_": 2}
        | {"id_token_signing_alg_values_supported": "RS256"},
        {"issuer": "https://idp.example/", "jwks_uri": "https://idp.example/jwks"}
        | {"issuer": "https://other"},
    ],
    ids=["not-object", "no-jwks-uri", "http-jwks", "http-issuer", "algs-not-list", "other-issuer"],
)
def test_bad_metadata(document: object) -> None:
    configured = (
        "http://idp.example" if isinstance(document, dict) and "http:" in document["issuer"] else None
    )
    with pytest.raises(ValueError):
        parse_metadata(document, configured or "https://idp.example")


def test_good_metadata() -> None:
    document = {
        "issuer": "https://idp.example/realms/fir",
        "jwks_uri": "https://idp.example/realms/fir/certs",
        "id_token_signing_alg_values_supported": ["RS256", "none"],
    }
    metadata = parse_metadata(document, "https://idp.example/realms/fir")
    assert metadata.signing_algorithms == ("RS256", "none")
    assert metadata.jwks_uri == "https://idp.example/realms/fir/certs"


def test_import_signing_keys_keeps_only_public_asymmetric_signature_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signing = new_key("RSA", kid="sig")
    encryption = new_key("EC", kid="enc").as_dict(private=False) | {"use": "enc"}
    oct_key = OctKey.generate_key(256, parameters={"kid": "oct"}).as_dict(private=True)
    weak = _weak_rsa_jwk()
    document = {
        "keys": [
            signing.as_dict(private=True),  # a careless provider publishing its private key
            encryption,
            oct_key,
            weak,
            {"kty": "RSA", "kid": "broken", "n": "x", "e": "AQAB"},
            {"kty": "PQ-KEM", "kid": "future"},
            {"kty": ["RSA"], "kid": "kty-a-list"},  # unhashable: it stopped the whole set, and start-up
            {"kty": {"RSA": 1}, "kid": "kty-an-object"},
            "not a key",
        ]
    }
    key_set = import_signing_keys(document)
    assert [k.kid for k in key_set] == ["sig"]
    assert not key_set.keys[0].is_private
    assert "weak" in caplog.text


@pytest.mark.parametrize(
    "document", [{}, {"keys": []}, {"keys": "x"}, [], {"keys": [{"kty": "oct", "k": "AA"}]}]
)
def test_import_signing_keys_refuses_an_empty_set(document: object) -> None:
    with pytest.raises(ValueError):
        import_signing_keys(document)


def _weak_rsa_jwk() -> dict[str, Any]:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    numbers = weak.public_key().public_numbers()
    return {"kty": "RSA", "kid": "weak", "n": int_to_base64(numbers.n), "e": int_to_base64(numbers.e)}
