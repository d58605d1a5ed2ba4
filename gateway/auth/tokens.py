"""The Authorization header to a `Principal`: a bearer JWT verified against the issuer's published keys."""

from __future__ import annotations

import logging
import math
import re
from types import TracebackType

import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jws import extract_compact

from gateway.auth import claims
from gateway.auth.algorithms import TokenRegistry, allowed_algorithms
from gateway.auth.jwks import IssuerKeys, JwksCache, KeysUnavailable, LocalIssuer
from gateway.auth.verified import VerifiedTokens
from gateway.settings import Settings, access_token_type
from resolvers.errors import IssuerUnavailable, Unauthenticated
from resolvers.principal import ANONYMOUS, Principal

log = logging.getLogger(__name__)

REALM = "fir-graph"
MAX_TOKEN_CHARS = 16 * 1024
MAX_LEEWAY = 60
# An `exp` past this (2**53 s: some 285 million years) is read as this: it is never reached either way.
LATEST_EXP = 2**53
# RFC 6750 b64token; a JWS compact serialisation always fits it
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 6750 error_description: printable ASCII without '"' and '\'
_UNSAFE_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_DECODE_ERRORS = (JoseError, ValueError, TypeError, KeyError)


class TokenVerifier:
    """Verifies bearer tokens from one issuer; `start()` before use, `aclose()` after (it owns its client)."""

    def __init__(
        self, settings: Settings, issuer: str, *, timeout: float = 5.0, local: LocalIssuer | None = None
    ) -> None:
        self.issuer = issuer
        self._local = local
        self._settings = settings
        self._timeout = timeout
        self._leeway = max(0, min(settings.oidc_leeway, MAX_LEEWAY))
        self._precheck = allowed_algorithms(settings.oidc_algorithms, None)
        self._registry = TokenRegistry(self._precheck)
        self._client: httpx.AsyncClient | None = None
        self._keys: JwksCache | None = None
        self._verified = VerifiedTokens(
            max_entries=settings.verified_tokens_max, ttl=settings.verified_tokens_ttl, leeway=self._leeway
        )

    def expires_at(self, principal: Principal) -> float | None:
        """When a verified token stops being accepted (Unix time: `exp` plus the leeway); None without one."""
        exp = principal.claims.get("exp")
        if principal.anonymous or isinstance(exp, bool) or not isinstance(exp, int | float):
            return None
        return float(min(exp, LATEST_EXP)) + self._leeway  # float() of an int past 1e308 overflows

    @property
    def keys(self) -> JwksCache:
        if self._keys is None:
            raise RuntimeError("TokenVerifier.start() has not been awaited")
        return self._keys

    async def start(self, *, prefetch: bool = True) -> None:
        """Create the HTTP client and try a first fetch; an issuer down at start is logged, not fatal.

        `prefetch=False` suits the development issuer, which this same server serves once it listens.
        """
        self._client = httpx.AsyncClient(timeout=self._timeout, headers={"User-Agent": "fir-graph"})
        self._keys = JwksCache(self.issuer, self._settings, self._client, local=self._local)
        if prefetch:
            await self._keys.refresh()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = self._keys = None

    async def __aenter__(self) -> TokenVerifier:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def authenticate(self, authorization: str | None) -> Principal:
        return await authenticate(self, authorization)

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            return known
        principal = await self._verify(token)
        self._verified.put(token, principal)
        return principal

    async def _verify(self, token: str) -> Principal:
        kid = self._precheck_header(token)
        keys = await self._keys_for(kid)
        try:
            decoded = jwt.decode(token, keys.key_set, registry=TokenRegistry(keys.algorithms))
            self._claims_registry(keys).validate(decoded.claims)
        except _DECODE_ERRORS as error:
            log.debug("token refused: %s", type(error).__name__)
            raise Unauthenticated(_reason(error)) from None
        if claims.looks_like_id_token(decoded.claims):
            raise Unauthenticated("an ID token is not an access token")
        principal = claims.principal(decoded.claims, self._settings.manufacturer_claim)
        if principal.subject is None:
            raise Unauthenticated("token names no subject or client")
        return principal

    def _precheck_header(self, token: str) -> str | None:
        """The `kid`, once the header is known to be well formed and to name an acceptable algorithm.

        Checked before any key lookup, so a forged header cannot make us refetch the key set.
        """
        try:
            header = extract_compact(token.encode("ascii"), registry=self._registry).headers()
        except _DECODE_ERRORS:
            raise Unauthenticated("malformed token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._precheck:  # a list or an object is unhashable
            raise Unauthenticated("token algorithm is not accepted")
        typ = header.get("typ")
        if not isinstance(typ, str) or access_token_type(typ) not in self._settings.oidc_allowed_types:
            raise Unauthenticated("not an access token: its JOSE typ must be at+jwt (RFC 9068)")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("malformed token")
        return kid

    async def _keys_for(self, kid: str | None) -> IssuerKeys:
        """The issuer's keys, with the token's among them. When the issuer cannot be reached the token is
        not refused as bad (a client told 401 would drop a good token, or page someone): IssuerUnavailable."""
        retry_after = max(1, math.ceil(self._settings.jwks_min_refresh_interval))
        try:
            keys = await self.keys.keys_for(kid)
        except KeysUnavailable:
            raise IssuerUnavailable(
                "the token issuer's keys cannot be fetched right now: retry shortly", retry_after=retry_after
            ) from None
        if not keys.knows(kid):
            if self.keys.failing:
                raise IssuerUnavailable(
                    "token signed by a key this gateway does not hold yet, and the token issuer cannot be"
                    " reached to fetch it: retry shortly",
                    retry_after=retry_after,
                )
            raise Unauthenticated("token signed by an unknown key")
        return keys

    def _claims_registry(self, keys: IssuerKeys) -> jwt.JWTClaimsRegistry:
        return jwt.JWTClaimsRegistry(
            leeway=self._leeway,
            exp={"essential": True},
            iss={"essential": True, "value": keys.issuer},
            aud={"essential": True, "value": self._settings.oidc_audience},
        )


async def authenticate(verifier: TokenVerifier | None, authorization: str | None) -> Principal:
    """The one place where no credentials means `ANONYMOUS`; anything but a valid bearer token raises.

    `verifier` is None when the gateway trusts no issuer: then any token is refused, never ignored.
    """
    token = bearer_token(authorization)
    if token is None:
        return ANONYMOUS
    if verifier is None:
        raise Unauthenticated("this gateway has no token issuer configured (FIR_OIDC_ISSUER or FIR_DEV_AUTH)")
    return await verifier.verify(token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer` Authorization header; None when there are no credentials at all."""
    if authorization is None or not authorization.strip():
        return None
    parts = authorization.split()
    if parts[0].lower() != "bearer":
        raise Unauthenticated("use the Bearer authorization scheme")
    if len(parts) != 2 or len(parts[1]) > MAX_TOKEN_CHARS or not _B64TOKEN.fullmatch(parts[1]):
        raise Unauthenticated("malformed bearer token")
    return parts[1]


def www_authenticate(error: Unauthenticated | None) -> str:
    """The RFC 6750 WWW-Authenticate value for a 401: with `invalid_token` when a token was refused."""
    if error is None:
        return f'Bearer realm="{REALM}"'
    description = _UNSAFE_DESCRIPTION.sub(" ", error.message)
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'


def _reason(error: Exception) -> str:
    """A short message that names the failed check and nothing from the token itself."""
    if isinstance(error, ExpiredTokenError):
        return "token has expired"
    if isinstance(error, MissingClaimError):
        return f"token lacks the {error.claim} claim"
    if isinstance(error, ClaimError):
        return (
            "token is not yet valid"
            if error.claim in {"nbf", "iat"}
            else f"token has an invalid {error.claim}"
        )
    if isinstance(error, BadSignatureError):
        return "token signature is invalid"
    if isinstance(error, UnsupportedAlgorithmError):
        return "token algorithm is not accepted"
    return "malformed token"
