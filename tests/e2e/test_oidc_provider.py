"""Interop with a real third-party provider: npm oidc-provider, client credentials, JWT access tokens."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc.jws import extract_compact

from tests.builders import building
from tests.e2e.server import free_port, running_server
from tests.e2e.test_http import DEVICE, IDENT

PEERS = Path(__file__).resolve().parents[1] / "peers"
pytestmark = pytest.mark.peers


@contextlib.contextmanager
def oidc_provider() -> Iterator[str]:
    if shutil.which("node") is None or not (PEERS / "node_modules" / "oidc-provider").exists():
        pytest.fail("test peers missing: run `make peers` (needs Node.js)")
    port = free_port()
    proc = subprocess.Popen(
        ["node", str(PEERS / "oidc_provider.mjs"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ready "), f"oidc-provider did not start: {line!r}"
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def client_token(issuer: str, client: str, secret: str, scope: str) -> str:
    discovery = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    response = httpx.post(
        discovery["token_endpoint"],
        data={"grant_type": "client_credentials", "scope": scope, "resource": "urn:fir:graph"},
        auth=(client, secret),
        timeout=10,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
async def seeded_with_draft(db_url: str) -> tuple[str, int]:
    async with building(db_url) as b:
        await b.chain("00000001", "00000002")
        submitted = await b.release(
            "106C", "4331", "00AC", "00000003", date="2022-01-01", status="SUBMITTED", cpl_status=None
        )
    return db_url, submitted


def test_tokens_from_oidc_provider_work_end_to_end(
    seeded_with_draft: tuple[str, int], tmp_path: Path
) -> None:
    db_url, submitted = seeded_with_draft
    with (
        oidc_provider() as issuer,
        running_server(db_url, tmp_path, FIR_OIDC_ISSUER=issuer, FIR_OIDC_AUDIENCE="fir-graph") as base,
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        supplier = client_token(issuer, "supplier-portal", "supplier-secret", "fir:read")
        maker = client_token(issuer, "maker-106c", "maker-secret", "fir:publish")
        # RFC 9068: the gateway accepts these because they say they are access tokens
        assert extract_compact(supplier.encode()).headers()["typ"] == "at+jwt"

        def ask(query: str, token: str | None, **variables: object) -> httpx.Response:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)

        body = ask(DEVICE, supplier, id=IDENT).json()
        assert "errors" not in body, body
        assert [r["version"] for r in body["data"]["device"]["lineage"]] == ["00000001", "00000002"]

        draft = "query($id: ID!) { firmwareRelease(id: $id) { version status } }"
        assert ask(draft, supplier, id=str(submitted)).json()["data"]["firmwareRelease"] is None
        mine = ask(draft, maker, id=str(submitted)).json()["data"]["firmwareRelease"]
        assert mine == {"version": "00000003", "status": "SUBMITTED"}

        # a token for another audience from the same provider is refused
        wrong = ask(DEVICE, supplier[:-2] + "xx", id=IDENT)
        assert wrong.status_code == 401
