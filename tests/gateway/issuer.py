"""A real OIDC issuer for tests: discovery and JWKS over HTTP on a loopback port, keys changed at will."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import socket
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway.settings import Settings, load_settings

AUDIENCE = "fir-graph-test"
REALM_PATH = "/realms/fir"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    base = dataclasses.replace(
        load_settings(None),
        data_dir=data_dir,
        host="127.0.0.1",
        public_url=None,
        oidc_issuer=None,
        oidc_audience=AUDIENCE,
        oidc_algorithms=("RS256", "PS256", "ES256", "EdDSA", "Ed25519"),
        oidc_leeway=30,
        jwks_ttl=600,
        jwks_min_refresh_interval=0.0,
        manufacturer_claim="fir_manufacturer",
        dev_auth=False,
        # these tests are about verification itself: every token is verified in full
        verified_tokens_max=0,
    )
    return dataclasses.replace(base, **overrides)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(app: ASGIApp, sock: socket.socket | None = None) -> Iterator[int]:
    """Run `app` with uvicorn in a background thread on 127.0.0.1; stops when the block ends."""
    sock = sock or free_socket()
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app, loop="asyncio", http="h11", ws="none", lifespan="off", log_level="warning",
        access_log=False, timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"issuer-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.005)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def new_key(kty: str = "RSA", kid: str | None = None) -> Key:
    parameters: dict[str, Any] = {"use": "sig"}
    if kid:
        parameters["kid"] = kid
    key: Key
    if kty == "RSA":
        key = RSAKey.generate_key(2048, parameters=parameters, auto_kid=kid is None)
    elif kty == "EC":
        key = ECKey.generate_key("P-256", parameters=parameters, auto_kid=kid is None)
    else:
        key = OKPKey.generate_key("Ed25519", parameters=parameters, auto_kid=kid is None)
    return key


@dataclasses.dataclass
class LocalIssuer:
    """What the test issuer publishes; every attribute may change while the server runs."""

    port: int = 0
    keys: list[Key] = dataclasses.field(default_factory=list)
    algorithms: list[str] | None = dataclasses.field(default_factory=lambda: ["RS256", "ES256", "Ed25519"])
    issuer_override: str | None = None
    down: bool = False
    jwks_delay: float = 0.0
    hits: Counter[str] = dataclasses.field(default_factory=Counter)

    def reset(self, keys: list[Key]) -> None:
        self.keys = list(keys)
        self.algorithms = ["RS256", "ES256", "Ed25519"]
        self.issuer_override = None
        self.down = False
        self.jwks_delay = 0.0
        self.hits.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{REALM_PATH}"

    @property
    def key(self) -> Key:
        return self.keys[0]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(f"{REALM_PATH}/.well-known/openid-configuration", self._discovery),
                Route(f"{REALM_PATH}/protocol/openid-connect/certs", self._jwks),
            ]
        )

    async def _discovery(self, request: Request) -> Response:
        self.hits["discovery"] += 1
        if self.down:
            return Response("unavailable", status_code=503)
        document: dict[str, Any] = {
            "issuer": self.issuer_override or self.url,
            "jwks_uri": f"{self.url}/protocol/openid-connect/certs",
            "subject_types_supported": ["public"],
        }
        if self.algorithms is not None:
            document["id_token_signing_alg_values_supported"] = self.algorithms
        return JSONResponse(document)

    async def _jwks(self, request: Request) -> Response:
        self.hits["jwks"] += 1
        if self.jwks_delay:
            await asyncio.sleep(self.jwks_delay)
        if self.down:
            return Response("unavailable", status_code=503)
        return JSONResponse(KeySet(list(self.keys)).as_dict(private=False))

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "user-1",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "scope": "fir:read",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key: Key | None = None, header: dict[str, Any] | None = None, **claims: Any) -> str:
        return sign(self.claims(**claims), key or self.key, header)


ALG_FOR = {"RSA": "RS256", "EC": "ES256", "OKP": "Ed25519"}


def sign(claims: dict[str, Any], key: Key, header: dict[str, Any] | None = None) -> str:
    """An RFC 9068 access token (`typ: at+jwt`) unless `header` says otherwise; a None value drops a member."""
    full = {"alg": ALG_FOR[key.key_type], "kid": key.kid, "typ": "at+jwt", **(header or {})}
    full = {name: value for name, value in full.items() if value is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA is deprecated, and still in use
        registry = JWSRegistry(algorithms=[full["alg"]], strict_check_header=False)
        return jwt.encode(full, claims, key, registry=registry, default_type=None)


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def craft(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS assembled by hand, for tokens no well-behaved library would produce (typ at+jwt unless set)."""
    header = {"typ": "at+jwt", **header}
    return f"{b64(header)}.{b64(claims)}.{b64(signature)}"


@contextmanager
def running_issuer(kty: str = "RSA") -> Iterator[LocalIssuer]:
    issuer = LocalIssuer(keys=[new_key(kty)])
    sock = free_socket()
    issuer.port = sock.getsockname()[1]
    with serve(issuer.app(), sock):
        yield issuer


def craft_signed(header: dict[str, Any], claims: Any, key: Key) -> str:
    """Like `craft`, with a genuine RS256 signature: for headers and payloads joserfc refuses to produce."""
    header = {"typ": "at+jwt", **header}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    private = key.get_op_key("sign")
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"
