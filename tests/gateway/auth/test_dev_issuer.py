"""The development issuer: where it may run, its key file, the tokens it mints, verified over real HTTP."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette

from gateway.auth.dev_issuer import DevIssuer, check_dev_auth_allowed, key_path, load_or_create_key
from gateway.auth.tokens import TokenVerifier
from gateway.settings import Settings
from resolvers.errors import Unauthenticated
from tests.gateway.issuer import free_socket, make_settings, serve


def dev_settings(tmp_path: Path, port: int = 8000, **overrides: object) -> Settings:
    return make_settings(tmp_path, **{"dev_auth": True, "port": port, **overrides})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_allowed_on_loopback(tmp_path: Path, host: str) -> None:
    check_dev_auth_allowed(dev_settings(tmp_path, host=host))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dev_auth": False}, "FIR_DEV_AUTH=1"),
        ({"oidc_issuer": "https://idp.example/realms/fir"}, "FIR_OIDC_ISSUER"),
        ({"host": "0.0.0.0"}, "loopback FIR_HOST"),
        ({"host": "192.168.1.10"}, "loopback FIR_HOST"),
        ({"public_url": "https://fir.example.com"}, "FIR_PUBLIC_URL"),
    ],
    ids=["off", "with-issuer", "all-interfaces", "lan", "public-url"],
)
def test_refused_elsewhere(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        check_dev_auth_allowed(dev_settings(tmp_path, **overrides))


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    settings = dev_settings(tmp_path)
    first = DevIssuer(settings)
    path = key_path(settings)
    assert path == tmp_path / "dev-oidc" / "jwks.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert '"d"' in path.read_text()
    assert DevIssuer(settings).kid == first.kid
    assert [p.name for p in path.parent.iterdir()] == ["jwks.json"]  # no temporary file left behind


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    settings = dev_settings(tmp_path)
    kid = DevIssuer(settings).kid
    key_path(settings).chmod(0o644)
    assert DevIssuer(settings).kid == kid
    assert stat.S_IMODE(key_path(settings).stat().st_mode) == 0o600


def test_a_public_only_key_file_is_refused(tmp_path: Path) -> None:
    settings = dev_settings(tmp_path)
    issuer = DevIssuer(settings)
    key_path(settings).write_text(str(issuer.public_jwks()).replace("'", '"'))
    with pytest.raises(RuntimeError, match="delete it"):
        DevIssuer(settings)


def test_racing_creators_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "race" / "jwks.json"
    with ThreadPoolExecutor(8) as pool:
        kids = set(pool.map(lambda _: load_or_create_key(path).kid, range(8)))
    assert len(kids) == 1
    assert load_or_create_key(path).kid in kids


def test_minted_claims(tmp_path: Path) -> None:
    settings = dev_settings(tmp_path, oidc_audience="fir-graph")
    issuer = DevIssuer(settings)
    token = issuer.mint("fir:publish   fir:read", ["106c", " 2a00 "], "alice", ttl=600)
    public = KeySet.import_key_set(issuer.public_jwks())  # type: ignore[arg-type]
    claims = jwt.decode(token, public, algorithms=["RS256"]).claims
    assert claims["iss"] == "http://127.0.0.1:8000/dev-oidc" == settings.dev_issuer
    assert claims["aud"] == "fir-graph"
    assert claims["sub"] == "alice"
    assert claims["scope"] == "fir:publish fir:read"
    assert claims["fir_manufacturer"] == ["106C", "2A00"]
    assert claims["org"]
    assert claims["exp"] - claims["iat"] == 600
    assert claims["nbf"] <= time.time() < claims["exp"]
    bare = jwt.decode(issuer.mint("fir:read"), public)
    assert bare.claims["sub"] == "dev-user"
    assert "fir_manufacturer" not in bare.claims
    assert bare.claims["exp"] - bare.claims["iat"] == 8 * 3600


@pytest.mark.parametrize(("manufacturer", "ttl"), [(["106"], 60), (["XYZW"], 60), (["106C"], 0)])
def test_mint_refuses_bad_input(tmp_path: Path, manufacturer: list[str], ttl: int) -> None:
    with pytest.raises(ValueError):
        DevIssuer(dev_settings(tmp_path)).mint("fir:publish", manufacturer, None, ttl)


@pytest.fixture
def served_dev(tmp_path: Path) -> Iterator[tuple[Settings, DevIssuer]]:
    sock = free_socket()
    settings = dev_settings(tmp_path, port=sock.getsockname()[1])
    issuer = DevIssuer(settings)
    with serve(Starlette(routes=issuer.routes()), sock):
        yield settings, issuer


async def test_discovery_and_jwks_are_served(served_dev: tuple[Settings, DevIssuer]) -> None:
    settings, _ = served_dev
    async with httpx.AsyncClient() as client:
        discovery = (await client.get(f"{settings.dev_issuer}/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == settings.dev_issuer
        jwks = (await client.get(discovery["jwks_uri"])).json()
    assert len(jwks["keys"]) == 1
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwks["keys"][0])


async def test_server_verifies_tokens_through_discovery(served_dev: tuple[Settings, DevIssuer]) -> None:
    settings, issuer = served_dev
    verifier = TokenVerifier(settings, settings.dev_issuer)
    await verifier.start(prefetch=False)
    try:
        assert verifier.keys.attempts == 0
        principal = await verifier.authenticate(f"Bearer {issuer.mint('fir:publish', ['106c'], 'alice')}")
        assert verifier.keys.attempts == 1
    finally:
        await verifier.aclose()
    assert principal.subject == "alice"
    assert principal.publishes_for == {"106C"}
    assert principal.organisation == "FIR graph development"


async def test_the_gateway_reads_its_own_issuers_keys_without_asking_itself(tmp_path: Path) -> None:
    """What `fir serve` does with FIR_DEV_AUTH: the keys come from the issuer in this process, so no
    self-request can time out at start or under load (then the refresh interval would refuse every
    token for seconds). Nothing listens on the issuer's port here."""
    with free_socket() as sock:  # a port nothing listens on
        settings = dev_settings(tmp_path, port=sock.getsockname()[1])
    issuer = DevIssuer(settings)
    verifier = TokenVerifier(settings, settings.dev_issuer, local=issuer)
    await verifier.start()
    try:
        assert verifier.keys.attempts == 1 and verifier.keys.current is not None
        principal = await verifier.authenticate(f"Bearer {issuer.mint('fir:read', None, 'bob')}")
    finally:
        await verifier.aclose()
    assert principal.subject == "bob" and principal.can_read
    other = DevIssuer(dev_settings(tmp_path / "other", port=settings.port))  # another key, same issuer URL
    verifier = TokenVerifier(settings, settings.dev_issuer, local=issuer)
    await verifier.start()
    try:
        with pytest.raises(Unauthenticated):
            await verifier.authenticate(f"Bearer {other.mint('fir:read', None, 'mallory')}")
    finally:
        await verifier.aclose()


async def test_token_minted_by_another_process(
    served_dev: tuple[Settings, DevIssuer], tmp_path: Path
) -> None:
    settings, _ = served_dev
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIR_")}
    env |= {
        "FIR_DATA_DIR": str(settings.data_dir),
        "FIR_HOST": settings.host,
        "FIR_PORT": str(settings.port),
        "FIR_DEV_AUTH": "1",
        "FIR_OIDC_AUDIENCE": settings.oidc_audience,
    }
    script = (
        "from gateway.settings import load_settings\n"
        "from gateway.auth.dev_issuer import DevIssuer, check_dev_auth_allowed\n"
        "s = load_settings(None); check_dev_auth_allowed(s)\n"
        "print(DevIssuer(s).mint('fir:admin', None, 'cli-user'))\n"
    )
    command = [sys.executable, "-c", script]
    run = subprocess.run
    done = await asyncio.to_thread(
        run, command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    async with TokenVerifier(settings, settings.dev_issuer) as verifier:
        principal = await verifier.authenticate(f"Bearer {done.stdout.strip()}")
    assert principal.subject == "cli-user"
    assert principal.is_admin


async def test_dev_token_for_another_audience_is_refused(served_dev: tuple[Settings, DevIssuer]) -> None:
    settings, issuer = served_dev
    async with TokenVerifier(
        make_settings(settings.data_dir, oidc_audience="other"), settings.dev_issuer
    ) as v:
        with pytest.raises(Unauthenticated, match="invalid aud"):
            await v.authenticate(f"Bearer {issuer.mint('fir:read')}")
