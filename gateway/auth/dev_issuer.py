"""The development issuer (FIR_DEV_AUTH): a local key, tokens for `fir token`, discovery and JWKS."""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.auth.claims import MANUFACTURER_ID
from gateway.settings import Settings, is_loopback
from resolvers.principal import ADMIN, PUBLISH, READ

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
DEFAULT_TTL = 8 * 3600
PATH = "/dev-oidc"
ORGANISATION = "FIR graph development"


def check_dev_auth_allowed(settings: Settings) -> None:
    """Refuse, loudly, any configuration where development tokens could reach a real deployment."""
    if not settings.dev_auth:
        raise RuntimeError("the development issuer needs FIR_DEV_AUTH=1")
    if settings.oidc_issuer:
        raise RuntimeError("FIR_DEV_AUTH cannot be combined with FIR_OIDC_ISSUER; unset one of them")
    if not settings.loopback_only:
        raise RuntimeError(f"FIR_DEV_AUTH only runs on a loopback FIR_HOST, not {settings.host!r}")
    host = urlsplit(settings.dev_issuer).hostname
    if host is None or not is_loopback(host):
        raise RuntimeError(f"FIR_DEV_AUTH needs a loopback FIR_PUBLIC_URL, not {settings.public_url!r}")


def key_path(settings: Settings) -> Path:
    return settings.data_dir / "dev-oidc" / "jwks.json"


class DevIssuer:
    """Signs development tokens with a key kept under FIR_DATA_DIR, shared by the server and `fir token`."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.dev_issuer
        self._settings = settings
        self._key = load_or_create_key(key_path(settings))

    @property
    def kid(self) -> str:
        return self._key.kid or ""

    def mint(
        self,
        scopes: str,
        manufacturer: list[str] | None = None,
        subject: str | None = None,
        ttl: int = DEFAULT_TTL,
    ) -> str:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self._settings.oidc_audience,
            "sub": subject or "dev-user",
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(12),
            "scope": " ".join(scopes.split()),
            "azp": "fir-token",
            "org": ORGANISATION,
        }
        if manufacturer:
            claims[self._settings.manufacturer_claim] = [_manufacturer_id(m) for m in manufacturer]
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def discovery_document(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "subject_types_supported": ["public"],
            "scopes_supported": [READ, PUBLISH, ADMIN],
            "claims_supported": ["sub", "scope", "org", self._settings.manufacturer_claim],
        }

    def public_jwks(self) -> dict[str, object]:
        return dict(KeySet([self._key]).as_dict(private=False))

    def routes(self) -> list[Route]:
        return [
            Route(f"{PATH}/.well-known/openid-configuration", self._discovery, methods=["GET"]),
            Route(f"{PATH}/jwks", self._jwks, methods=["GET"]),
        ]

    async def _discovery(self, request: Request) -> JSONResponse:
        return JSONResponse(self.discovery_document())

    async def _jwks(self, request: Request) -> JSONResponse:
        return JSONResponse(self.public_jwks(), media_type="application/jwk-set+json")


def load_or_create_key(path: Path) -> RSAKey:
    """The signing key at `path`, generated on first use; when two processes race, the first file wins."""
    if not path.exists():
        key = RSAKey.generate_key(2048, parameters={"alg": ALGORITHM, "use": "sig"}, auto_kid=True)
        create_private_file(path, json.dumps(KeySet([key]).as_dict(private=True)))
        log.info("generated the development signing key at %s", path)
    return _read_key(path)


def create_private_file(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # link() never replaces: a key another process already wrote (and may have signed with) is kept
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)


def _read_key(path: Path) -> RSAKey:
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others; restricting it to its owner", path)
        path.chmod(0o600)
    keys = KeySet.import_key_set(json.loads(path.read_text(encoding="utf-8"))).keys
    if len(keys) != 1 or not isinstance(keys[0], RSAKey) or not keys[0].is_private:
        raise RuntimeError(f"{path} does not hold one private RSA key; delete it to generate a new one")
    return keys[0]


def _manufacturer_id(value: str) -> str:
    normalised = value.strip().upper()
    if not MANUFACTURER_ID.fullmatch(normalised):
        raise ValueError(f"not a 4-hex-digit manufacturer identifier: {value!r}")
    return normalised
