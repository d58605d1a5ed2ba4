"""Development tokens over HTTP: `fir token` mints, the served issuer's JWKS verifies, scopes apply."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port, running_server
from tests.e2e.test_http import DEVICE, IDENT, seeded  # noqa: F401  (fixture)


def mint(data_dir: Path, port_env: dict[str, str], scope: str, *extra: str) -> str:
    env = {**os.environ, **port_env, "FIR_DATA_DIR": str(data_dir), "FIR_DEV_AUTH": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "token", "--scope", scope, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture
def dev_server(seeded: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:  # noqa: F811
    with running_server(seeded, tmp_path, FIR_DEV_AUTH="1") as base:
        yield base, tmp_path


def test_dev_tokens_decide_visibility(dev_server: tuple[str, Path]) -> None:
    base, data_dir = dev_server
    port_env = {"FIR_PORT": base.rsplit(":", 1)[1]}
    reader = mint(data_dir, port_env, "fir:read")
    with httpx.Client(base_url=base, timeout=10) as client:
        body = client.post(
            "/graphql",
            json={"query": DEVICE, "variables": {"id": IDENT}},
            headers={"authorization": f"Bearer {reader}"},
        ).json()
        assert "errors" not in body, body
        assert [r["version"] for r in body["data"]["device"]["lineage"]] == ["00000001", "00000002"]
        tampered = reader[:-4] + ("AAAA" if not reader.endswith("AAAA") else "BBBB")
        refused = client.post(
            "/graphql",
            json={"query": DEVICE, "variables": {"id": IDENT}},
            headers={"authorization": f"Bearer {tampered}"},
        )
        assert refused.status_code == 401
        assert client.get("/dev-oidc/.well-known/openid-configuration").json()["issuer"].endswith("/dev-oidc")


def test_token_refused_with_real_issuer_or_public_host(tmp_path: Path) -> None:
    env = {**os.environ, "FIR_DATA_DIR": str(tmp_path), "FIR_DEV_AUTH": "1"}
    for extra in ({"FIR_OIDC_ISSUER": "https://login.example.com"}, {"FIR_HOST": "0.0.0.0"}):
        out = subprocess.run(
            [sys.executable, "-m", "gateway", "token"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 2 and out.stdout == ""


def test_serve_refuses_dev_auth_with_a_real_issuer(tmp_path: Path) -> None:
    """Not settled by precedence: the operator meant one of them, and must say which."""
    env = {
        **os.environ,
        "FIR_DATA_DIR": str(tmp_path),
        "FIR_DEV_AUTH": "1",
        "FIR_OIDC_ISSUER": "https://login.example.com",
        "FIR_PORT": str(free_port()),
    }
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "refusing to start: FIR_DEV_AUTH cannot be combined with FIR_OIDC_ISSUER" in " ".join(
        out.stderr.split()
    )
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []  # refused before any database was started
