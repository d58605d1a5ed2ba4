"""One issuer's signing keys: found through discovery, cached with a TTL, refetched once per unknown kid."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import JWKRegistry, Key, KeySet, RSAKey

from gateway.auth.algorithms import ASYMMETRIC_KEY_TYPES, allowed_algorithms
from gateway.auth.discovery import discovery_url, parse_metadata
from gateway.settings import Settings

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048
FETCH_ERRORS = (httpx.HTTPError, httpx.InvalidURL, ValueError, JoseError)


class KeysUnavailable(Exception):
    """No key set has ever been fetched from the issuer."""


@dataclass(frozen=True)
class IssuerKeys:
    issuer: str
    """Exactly as the discovery document spells it: a token's `iss` must equal it."""
    key_set: KeySet
    algorithms: frozenset[str]
    fetched_at: float

    def knows(self, kid: str | None) -> bool:
        if kid is None:
            return len(self.key_set.keys) == 1
        return any(key.kid == kid for key in self.key_set)


class LocalIssuer(Protocol):
    """An issuer in this process (the development issuer): its documents without a request to itself."""

    def discovery_document(self) -> dict[str, object]: ...

    def public_jwks(self) -> dict[str, object]: ...


class JwksCache:
    """Keys for one issuer. Concurrent refreshes share one fetch; a failed fetch keeps the last good set.

    With `local`, the issuer's documents are read from it in this process rather than fetched: a
    server asking itself over HTTP while it starts, or while it is loaded, can time out, and then the
    refresh interval refuses every token for seconds.
    """

    def __init__(
        self,
        issuer: str,
        settings: Settings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        local: LocalIssuer | None = None,
    ) -> None:
        self.issuer = issuer
        self._client = client
        self._local = local
        self._clock = clock
        self._ttl = settings.jwks_ttl
        self._min_interval = settings.jwks_min_refresh_interval
        self._configured = settings.oidc_algorithms
        self._lock = asyncio.Lock()
        self._current: IssuerKeys | None = None
        self._last_attempt: float | None = None
        self._finished = 0
        """Fetches finished while a caller waited for the lock: that caller's refresh is already done."""
        self.attempts = 0
        """Fetches started, successful or not (for metrics and tests)."""
        self.failing = False
        """The last fetch failed: a key missing from the set held may be one the issuer has since added."""

    @property
    def current(self) -> IssuerKeys | None:
        return self._current

    async def keys_for(self, kid: str | None) -> IssuerKeys:
        """The key set, refreshed first when stale or when it lacks `kid`; raises KeysUnavailable."""
        current = self._current
        if current is None or not current.knows(kid) or (self._stale(current) and not self._lock.locked()):
            await self.refresh()
            current = self._current
        if current is None:
            raise KeysUnavailable(f"no signing keys from {self.issuer} yet")
        return current

    async def refresh(self) -> None:
        """Fetch unless a concurrent caller just did, or one did less than the minimum interval ago."""
        seen = self._finished
        async with self._lock:
            if self._finished != seen or self._throttled():
                return
            self.attempts += 1
            self._last_attempt = self._clock()
            try:
                self._current = await self._fetch()
                self.failing = False
            except FETCH_ERRORS as error:
                self.failing = True
                kept = "keeping the last good key set" if self._current else "no keys yet"
                log.warning("JWKS refresh from %s failed (%s); %s", self.issuer, _describe(error), kept)
            finally:
                self._finished += 1

    def _stale(self, keys: IssuerKeys) -> bool:
        return self._clock() - keys.fetched_at >= self._ttl

    def _throttled(self) -> bool:
        # Held keys or not: a flood of tokens while the provider is down must not become a flood of
        # fetches against it (nor let anyone with a forged header make us one).
        if self._last_attempt is None:
            return False
        return self._clock() - self._last_attempt < self._min_interval

    async def _fetch(self) -> IssuerKeys:
        local = self._local
        discovery = local.discovery_document() if local else await self._get_json(discovery_url(self.issuer))
        metadata = parse_metadata(discovery, self.issuer)
        key_set = import_signing_keys(
            local.public_jwks() if local else await self._get_json(metadata.jwks_uri)
        )
        algorithms = allowed_algorithms(self._configured, metadata.signing_algorithms)
        if not algorithms:
            raise ValueError("the issuer advertises none of FIR_OIDC_ALGORITHMS")
        return IssuerKeys(metadata.issuer, key_set, algorithms, self._clock())

    async def _get_json(self, url: str) -> object:
        response = await self._client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{url} returned more than {MAX_DOCUMENT_BYTES} bytes")
        return response.json()


def import_signing_keys(document: object) -> KeySet:
    """The asymmetric signature keys of a JWKS document; others (symmetric, encryption, weak) are skipped."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("JWKS document has no keys array")
    keys = [key for key in map(_signing_key, entries) if key is not None]
    if not keys:
        raise ValueError("JWKS document has no usable signing key")
    return KeySet(keys)


def _signing_key(entry: object) -> Key | None:
    if not isinstance(entry, dict):
        return None
    kty = entry.get("kty")
    if not isinstance(kty, str) or kty not in ASYMMETRIC_KEY_TYPES:  # a list `kty` is unhashable
        return None
    if entry.get("use", "sig") != "sig":
        return None
    public = {name: value for name, value in entry.items() if name not in _PRIVATE_MEMBERS}
    try:
        with warnings.catch_warnings():
            # a short RSA key is refused below rather than warned about
            warnings.simplefilter("ignore", SecurityWarning)
            key = JWKRegistry.import_key(public)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        log.warning("skipping unusable JWKS key %r: %s", entry.get("kid"), _describe(error))
        return None
    if isinstance(key, RSAKey) and key.raw_value.key_size < MIN_RSA_BITS:
        log.warning("skipping JWKS key %r: RSA key shorter than %d bits", entry.get("kid"), MIN_RSA_BITS)
        return None
    return key


# Private members a careless provider might publish; never hold them.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
