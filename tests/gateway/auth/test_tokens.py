"""Bearer tokens against a real issuer over HTTP: what is accepted, what is refused, claims mapping."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.auth.tokens import TokenVerifier, bearer_token, www_authenticate
from gateway.settings import load_settings
from resolvers.errors import Unauthenticated
from resolvers.principal import ANONYMOUS
from tests.gateway.issuer import (
    AUDIENCE,
    LocalIssuer,
    b64,
    craft,
    craft_signed,
    make_settings,
    new_key,
    running_issuer,
    sign,
)


@pytest.fixture
async def verifier(issuer: LocalIssuer, tmp_path: Path) -> AsyncIterator[TokenVerifier]:
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        yield verifier


async def test_no_credentials_is_anonymous(verifier: TokenVerifier) -> None:
    assert await verifier.authenticate(None) is ANONYMOUS
    assert await verifier.authenticate("  ") is ANONYMOUS


async def test_valid_token_becomes_a_principal(verifier: TokenVerifier, issuer: LocalIssuer) -> None:
    token = issuer.token(scope="openid fir:publish", fir_manufacturer="106c", org="Meters Ltd", azp="portal")
    principal = await verifier.authenticate(f"Bearer {token}")
    assert principal.subject == "user-1"
    assert principal.scopes == {"openid", "fir:publish"}
    assert principal.manufacturers == {"106C"}
    assert principal.publishes_for == {"106C"}
    assert principal.organisation == "Meters Ltd"
    assert principal.client_id == "portal"
    assert principal.claims["iss"] == issuer.url


@pytest.mark.parametrize(
    ("claims", "header"),
    [
        ({"aud": ["account", AUDIENCE]}, {}),
        ({"exp": -10}, {}),  # relative to now, within the 30 s leeway
        ({"nbf": +10}, {}),
        ({"nbf": None, "iat": None}, {}),
        ({}, {"typ": "at+jwt"}),
        ({}, {"x5t": "abc", "vendor-extension": "ignored"}),
    ],
    ids=["aud-list", "exp-in-leeway", "nbf-in-leeway", "no-nbf-iat", "at+jwt", "extra-header"],
)
async def test_accepted_variants(
    verifier: TokenVerifier, issuer: LocalIssuer, claims: dict[str, Any], header: dict[str, Any]
) -> None:
    # times are relative to the moment the token is made, not to when the module was collected
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "nbf") and v is not None else v for k, v in claims.items()}
    principal = await verifier.authenticate(f"Bearer {issuer.token(header=header, **claims)}")
    assert principal.subject == "user-1"


async def test_scheme_is_case_insensitive(verifier: TokenVerifier, issuer: LocalIssuer) -> None:
    assert (await verifier.authenticate(f"bearer {issuer.token()}")).can_read


@pytest.mark.parametrize("kty", ["EC", "OKP"])
async def test_ec_and_okp_issuers(kty: str, tmp_path: Path) -> None:
    with running_issuer(kty) as issuer:
        async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
            assert (await verifier.authenticate(f"Bearer {issuer.token()}")).can_read


async def test_algorithm_the_issuer_does_not_advertise_is_refused(
    verifier: TokenVerifier, issuer: LocalIssuer
) -> None:
    good = issuer.token()
    assert (await verifier.authenticate(f"Bearer {good}")).can_read
    with pytest.raises(Unauthenticated):  # PS256 is configured but the issuer only advertises RS256, ES256
        await verifier.authenticate(f"Bearer {issuer.token(header={'alg': 'PS256'})}")


def _hs256(issuer: LocalIssuer, secret: bytes) -> str:
    header = b64({"alg": "HS256", "typ": "JWT", "kid": issuer.key.kid})
    payload = b64(issuer.claims(scope="fir:admin"))
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"Bearer {header}.{payload}.{b64(mac)}"


def _tampered(issuer: LocalIssuer) -> str:
    header, _, signature = issuer.token().split(".")
    return f"Bearer {header}.{b64(issuer.claims(scope='fir:admin'))}.{signature}"


def _stripped(issuer: LocalIssuer) -> str:
    header, payload, _ = issuer.token().split(".")
    return f"Bearer {header}.{payload}."


NOW = int(time.time())
BAD: dict[str, Callable[[LocalIssuer], str]] = {
    "not-a-jwt": lambda i: "Bearer not-a-jwt",
    "two-segments": lambda i: "Bearer aaaa.bbbb",
    "jwe-shaped": lambda i: "Bearer a.b.c.d.e",
    "bearer-alone": lambda i: "Bearer",
    "bearer-two-tokens": lambda i: f"Bearer {i.token()} {i.token()}",
    "non-ascii": lambda i: "Bearer \u00fc.\u00fc.\u00fc",
    "oversized": lambda i: "Bearer " + "a" * 20_000,
    "header-not-json": lambda i: f"Bearer {b64(b'nope')}.{b64(i.claims())}.{b64(b'sig')}",
    "header-a-list": lambda i: f"Bearer {b64(b'[1]')}.{b64(i.claims())}.{b64(b'sig')}",
    "header-without-alg": lambda i: "Bearer " + craft({"kid": i.key.kid}, i.claims(), b"sig"),
    "kid-not-a-string": lambda i: "Bearer " + craft_signed({"alg": "RS256", "kid": 7}, i.claims(), i.key),
    "unknown-crit": lambda i: (
        "Bearer " + craft_signed({"alg": "RS256", "kid": i.key.kid, "crit": ["x"], "x": 1}, i.claims(), i.key)
    ),
    "payload-not-object": lambda i: "Bearer " + craft_signed({"alg": "RS256", "kid": i.key.kid}, [1], i.key),
    "payload-not-json": lambda i: (
        "Bearer "
        + craft_signed({"alg": "RS256", "kid": i.key.kid}, "x", i.key).replace(b64(b'"x"'), b64(b"{x"), 1)
    ),
    # unhashable algorithms: a 500 and a logged traceback for anyone, before the membership test
    "alg-a-list": lambda i: (
        "Bearer " + craft({"alg": ["RS256"], "kid": i.key.kid, "typ": "at+jwt"}, i.claims())
    ),
    "alg-an-object": lambda i: "Bearer " + craft({"alg": {"RS256": 1}, "typ": "at+jwt"}, i.claims()),
    "alg-none": lambda i: "Bearer " + craft({"alg": "none", "kid": i.key.kid}, i.claims(scope="fir:admin")),
    "alg-None": lambda i: "Bearer " + craft({"alg": "None", "kid": i.key.kid}, i.claims(scope="fir:admin")),
    "hs256-public-pem": lambda i: _hs256(i, i.key.as_pem(private=False)),
    "hs256-public-jwk": lambda i: _hs256(i, json.dumps(i.key.as_dict(private=False)).encode()),
    "expired": lambda i: "Bearer " + i.token(iat=NOW - 7200, nbf=NOW - 7200, exp=NOW - 3600),
    "expired-past-leeway": lambda i: "Bearer " + i.token(exp=int(time.time()) - 45),
    "future-nbf": lambda i: "Bearer " + i.token(nbf=int(time.time()) + 3600),
    "future-iat": lambda i: "Bearer " + i.token(iat=int(time.time()) + 3600),
    "exp-missing": lambda i: "Bearer " + i.token(exp=None),
    "exp-not-a-number": lambda i: "Bearer " + i.token(exp="tomorrow"),
    "wrong-iss": lambda i: "Bearer " + i.token(iss="http://127.0.0.1:1/realms/other"),
    "iss-trailing-slash": lambda i: "Bearer " + i.token(iss=i.url + "/"),
    "iss-missing": lambda i: "Bearer " + i.token(iss=None),
    "wrong-aud": lambda i: "Bearer " + i.token(aud="account"),
    "aud-prefix": lambda i: "Bearer " + i.token(aud=AUDIENCE + "-2"),
    "aud-list-without-ours": lambda i: "Bearer " + i.token(aud=["account", "other"]),
    "aud-missing": lambda i: "Bearer " + i.token(aud=None),
    "unknown-kid": lambda i: "Bearer " + i.token(key=new_key("RSA", kid="never-published")),
    "tampered-payload": _tampered,
    "signature-stripped": _stripped,
    "other-key-known-kid": lambda i: "Bearer " + i.token(key=new_key("RSA", kid=i.key.kid)),
    "basic-scheme": lambda i: "Basic dXNlcjpwYXNz",
    "token-scheme": lambda i: f"Token {i.token()}",
    "no-scheme": lambda i: i.token(),
    "no-subject-or-client": lambda i: "Bearer " + i.token(sub=None),
    # RFC 9068: an access token says so in its JOSE header; an ID token (typ JWT) never passes for one
    "typ-JWT": lambda i: "Bearer " + i.token(header={"typ": "JWT"}),
    "typ-missing": lambda i: "Bearer " + i.token(header={"typ": None}),
    "typ-not-a-string": lambda i: (
        "Bearer " + craft_signed({"alg": "RS256", "kid": i.key.kid, "typ": 1}, i.claims(), i.key)
    ),
    "typ-id-token": lambda i: "Bearer " + i.token(header={"typ": "id_token+jwt"}),
    "typ-logout": lambda i: "Bearer " + i.token(header={"typ": "logout+jwt"}),
    "id-token-typ-claim": lambda i: "Bearer " + i.token(typ="ID"),
    "id-token-at-hash": lambda i: "Bearer " + i.token(at_hash="x8bqNRkWH5ZPaS4VTbDYaw", nonce="n-0S6_WzA2Mj"),
}


@pytest.mark.parametrize("name", sorted(BAD))
async def test_bad_tokens_are_refused_safely(
    name: str, verifier: TokenVerifier, issuer: LocalIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    authorization = BAD[name](issuer)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthenticated) as caught:
        await verifier.authenticate(authorization)
    message = caught.value.message
    assert caught.value.code == "UNAUTHENTICATED"
    assert 0 < len(message) < 80
    segments = [s for s in re.split(r"[\s.]+", authorization) if len(s) > 12]
    assert not any(s in message or s in caplog.text for s in segments)
    assert "Traceback" not in caplog.text
    header = www_authenticate(caught.value)
    assert re.fullmatch(
        r'Bearer realm="fir-graph", error="invalid_token", error_description="[^"\\]+"', header
    )


async def test_good_token_still_works_after_the_battery(verifier: TokenVerifier, issuer: LocalIssuer) -> None:
    for name in ("alg-none", "hs256-public-pem", "tampered-payload", "unknown-kid"):
        with pytest.raises(Unauthenticated):
            await verifier.authenticate(BAD[name](issuer))
    assert (await verifier.authenticate(f"Bearer {issuer.token()}")).can_read


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
async def test_access_token_type_is_case_insensitive(
    verifier: TokenVerifier, issuer: LocalIssuer, typ: str
) -> None:
    assert (await verifier.authenticate(f"Bearer {issuer.token(header={'typ': typ})}")).can_read


async def test_operator_may_allow_other_types_but_never_an_id_token(
    issuer: LocalIssuer, tmp_path: Path
) -> None:
    """FIR_OIDC_ALLOWED_TYPES=at+jwt,JWT for a provider that types its access tokens JWT (Entra ID)."""
    settings = make_settings(tmp_path, oidc_allowed_types=("at+jwt", "jwt"))
    async with TokenVerifier(settings, issuer.url) as verifier:
        assert (await verifier.authenticate(f"Bearer {issuer.token(header={'typ': 'JWT'})}")).can_read
        for id_token in (
            issuer.token(header={"typ": "JWT"}, typ="ID"),
            issuer.token(header={"typ": "JWT"}, at_hash="x"),
        ):
            with pytest.raises(Unauthenticated, match="an ID token is not an access token"):
                await verifier.authenticate(f"Bearer {id_token}")
        with pytest.raises(Unauthenticated, match="typ must be at"):
            await verifier.authenticate(f"Bearer {issuer.token(header={'typ': None})}")


def test_allowed_types_setting_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIR_OIDC_ALLOWED_TYPES", " at+jwt, application/JWT ,")
    assert load_settings(None).oidc_allowed_types == ("at+jwt", "jwt")
    monkeypatch.delenv("FIR_OIDC_ALLOWED_TYPES")
    assert load_settings(None).oidc_allowed_types == ("at+jwt",)


async def test_token_without_kid_needs_a_single_key(issuer: LocalIssuer, tmp_path: Path) -> None:
    kidless = "Bearer " + craft_signed({"alg": "RS256"}, issuer.claims(), issuer.key)
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        assert (await verifier.authenticate(kidless)).can_read
    issuer.keys.append(new_key("EC"))
    async with TokenVerifier(make_settings(tmp_path), issuer.url) as verifier:
        with pytest.raises(Unauthenticated, match="unknown key"):
            await verifier.authenticate(kidless)


async def test_leeway_is_capped_at_sixty_seconds(issuer: LocalIssuer, tmp_path: Path) -> None:
    async with TokenVerifier(make_settings(tmp_path, oidc_leeway=3600), issuer.url) as verifier:
        with pytest.raises(Unauthenticated, match="expired"):
            await verifier.authenticate(f"Bearer {issuer.token(exp=int(time.time()) - 120)}")


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"scope": "fir:read fir:publish"}, {"fir:read", "fir:publish"}),
        ({"scope": "  fir:read\tfir:admin  "}, {"fir:read", "fir:admin"}),
        ({"scope": None, "scp": ["fir:admin", "openid"]}, {"fir:admin", "openid"}),
        ({"scope": None, "scp": "fir:read fir:admin"}, {"fir:read", "fir:admin"}),
        ({"scope": "openid", "scp": ["fir:read"]}, {"openid", "fir:read"}),
        (
            {"scope": "xfir:admin fir:admin2 notfir:admin fir:administrator FIR:ADMIN fir:admin/x"},
            {"xfir:admin", "fir:admin2", "notfir:admin", "fir:administrator", "FIR:ADMIN", "fir:admin/x"},
        ),
        ({"scope": None, "scp": ["fir:read fir:admin", 7, None]}, {"fir:read fir:admin"}),
        ({"scope": 42}, set()),
        ({"scope": None}, set()),
    ],
    ids=[
        "scope",
        "whitespace",
        "scp-array",
        "scp-string",
        "both",
        "lookalikes",
        "scp-odd-items",
        "number",
        "none",
    ],
)
async def test_scopes_are_exact_tokens(
    verifier: TokenVerifier, issuer: LocalIssuer, claims: dict[str, Any], expected: set[str]
) -> None:
    principal = await verifier.authenticate(f"Bearer {issuer.token(**claims)}")
    assert principal.scopes == expected
    assert principal.is_admin == ("fir:admin" in expected)
    # fir:publish alone is not a reader: it sees its own manufacturers' records only
    assert principal.can_read == bool(expected & {"fir:read", "fir:admin"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("106c", {"106C"}),
        (" 106c ", {"106C"}),
        ("106C,2a00 0001", {"106C", "2A00", "0001"}),
        (["106c", "2A00"], {"106C", "2A00"}),
        (["106C,2a00 0001"], {"106C", "2A00", "0001"}),
        ([" 106c "], {"106C"}),
        ("", set()),
        ([], set()),
        (None, set()),
    ],
    ids=[
        "string",
        "padded",
        "separated",
        "list",
        "list-item-separated",
        "list-padded",
        "empty",
        "empty-list",
        "absent",
    ],
)
async def test_manufacturer_claim(
    verifier: TokenVerifier, issuer: LocalIssuer, value: object, expected: set[str]
) -> None:
    """A string and a list of strings parse the same way."""
    token = issuer.token(scope="fir:publish", fir_manufacturer=value)
    principal = await verifier.authenticate(f"Bearer {token}")
    assert principal.manufacturers == expected
    assert principal.publishes_for == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope", "every fir_manufacturer value must be exactly 4 hex digits"),
        ("106C 12345", "every fir_manufacturer value must be exactly 4 hex digits"),
        (["106c", "bad"], "every fir_manufacturer value must be exactly 4 hex digits"),
        (["0x10"], "every fir_manufacturer value must be exactly 4 hex digits"),
        (["G00D"], "every fir_manufacturer value must be exactly 4 hex digits"),
        (["106c", 12], "the fir_manufacturer claim must be a string or a list of strings"),
        ([None], "the fir_manufacturer claim must be a string or a list of strings"),
        (4204, "the fir_manufacturer claim must be a string or a list of strings"),
        ({"id": "106C"}, "the fir_manufacturer claim must be a string or a list of strings"),
        ("10\ufb00", "every fir_manufacturer value must be exactly 4 hex digits"),  # 'ﬀ'.upper() is 'FF'
        (["106\uff23"], "every fir_manufacturer value must be exactly 4 hex digits"),  # fullwidth C
    ],
    ids=[
        "word",
        "five-digits",
        "list-with-bad",
        "hex-prefix",
        "not-hex",
        "list-with-int",
        "list-with-null",
        "int",
        "object",
        "ligature",
        "fullwidth",
    ],
)
async def test_malformed_manufacturer_claim_refuses_the_token(
    verifier: TokenVerifier, issuer: LocalIssuer, value: object, message: str
) -> None:
    """Never silently dropped: a mapper emitting the wrong value must be noticed, not half-work."""
    token = issuer.token(scope="fir:publish", fir_manufacturer=value)
    with pytest.raises(Unauthenticated) as caught:
        await verifier.authenticate(f"Bearer {token}")
    assert caught.value.message == message


async def test_manufacturer_claim_name_is_configurable(issuer: LocalIssuer, tmp_path: Path) -> None:
    claim = "https://fir.example/manufacturer"
    async with TokenVerifier(make_settings(tmp_path, manufacturer_claim=claim), issuer.url) as verifier:
        token = issuer.token(scope="fir:publish", **{claim: ["106c"], "fir_manufacturer": "2A00"})
        assert (await verifier.authenticate(f"Bearer {token}")).manufacturers == {"106C"}


@pytest.mark.parametrize(
    ("claims", "subject", "organisation", "client_id"),
    [
        ({"sub": None, "client_id": "svc"}, "svc", "svc", "svc"),
        ({"sub": None, "azp": "portal"}, "portal", "portal", "portal"),
        ({"sub": "abc@clients", "azp": "m2m", "org": "Supplier plc"}, "abc@clients", "Supplier plc", "m2m"),
        ({"organisation": "DCC"}, "user-1", "DCC", None),
        ({"org": 12, "azp": "x"}, "user-1", "x", "x"),
    ],
    ids=["client-credentials", "azp", "org", "organisation", "org-not-string"],
)
async def test_who_is_calling(
    verifier: TokenVerifier,
    issuer: LocalIssuer,
    claims: dict[str, Any],
    subject: str,
    organisation: str | None,
    client_id: str | None,
) -> None:
    principal = await verifier.authenticate(f"Bearer {issuer.token(**claims)}")
    assert (principal.subject, principal.organisation, principal.client_id) == (
        subject,
        organisation,
        client_id,
    )


def test_bearer_token_parsing() -> None:
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("  BEARER   abc.def.ghi ") == "abc.def.ghi"
    for bad in ("Bearer", "Bearer a b", "Basic abc", 'Bearer a"b', "Bearer " + "x" * 17_000):
        with pytest.raises(Unauthenticated):
            bearer_token(bad)


def test_www_authenticate() -> None:
    assert www_authenticate(None) == 'Bearer realm="fir-graph"'
    value = www_authenticate(Unauthenticated('bad "token" \\ here\n'))
    assert value == 'Bearer realm="fir-graph", error="invalid_token", error_description="bad  token    here "'


async def test_verifier_must_be_started(issuer: LocalIssuer, tmp_path: Path) -> None:
    verifier = TokenVerifier(make_settings(tmp_path), issuer.url)
    assert await verifier.authenticate(None) is ANONYMOUS
    with pytest.raises(RuntimeError, match="start"):
        await verifier.authenticate(f"Bearer {issuer.token()}")
    await verifier.aclose()


def test_sign_helper_round_trips(issuer: LocalIssuer) -> None:
    # guards the helpers: a token they produce has the shape the battery assumes
    header, payload, signature = sign(issuer.claims(), issuer.key).split(".")
    assert header and payload and signature


@pytest.mark.parametrize("exp", [10**400, 2**53 + 1, 1e308], ids=["10**400", "2**53+1", "1e308"])
async def test_an_exp_too_large_for_a_float_is_a_token_that_never_expires(
    verifier: TokenVerifier, issuer: LocalIssuer, exp: int | float
) -> None:
    """joserfc takes any integer `exp`; the WebSocket's close at expiry read it with float(), which
    raised OverflowError past 1e308 and dropped the connection with 1006."""
    principal = await verifier.authenticate(
        "Bearer " + craft_signed({"alg": "RS256", "kid": issuer.key.kid}, issuer.claims(exp=exp), issuer.key)
    )
    expires = verifier.expires_at(principal)
    assert expires is not None and time.time() + 10**15 < expires < float("inf")
