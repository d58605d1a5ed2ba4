"""The deployment files: compose validates against the Compose spec; the supergraph matches the SDL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_is_valid() -> None:
    tool = Path(sys.executable).with_name("check-jsonschema")
    out = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_router_is_hive_gateway_with_the_tested_configuration() -> None:
    """tests/e2e/test_federation_gateways.py runs deploy/hive-gateway.config.ts: the router mounts that file."""
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "image: ghcr.io/graphql-hive/gateway:" in compose
    assert "./deploy/hive-gateway.config.ts:/gateway/gateway.config.ts:ro" in compose
    assert "./deploy/supergraph.graphql:/gateway/supergraph.graphql:ro" in compose


def test_keycloak_realm_grants_the_fir_scopes() -> None:
    realm = json.loads((ROOT / "deploy" / "keycloak" / "fir-realm.json").read_text())
    assert {s["name"] for s in realm["clientScopes"]} == {"fir:read", "fir:publish", "fir:admin"}
    maker = next(c for c in realm["clients"] if c["clientId"] == "maker-106c")
    claims = {m["config"].get("claim.name") for m in maker["protocolMappers"]}
    assert "fir_manufacturer" in claims


@pytest.mark.peers
def test_committed_supergraph_is_current() -> None:
    if shutil.which("node") is None:
        pytest.fail("Node.js is needed for the test peers")
    out = subprocess.run(
        [
            "node",
            str(ROOT / "tests/peers/compose.mjs"),
            str(ROOT / "schema.graphql"),
            "--url",
            "http://gateway:8000/graphql",
            "--fir-only",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(out.stdout)["supergraph"] == (ROOT / "deploy/supergraph.graphql").read_text(), (
        "deploy/supergraph.graphql drifted: run deploy/compose-supergraph.sh"
    )


def test_compose_gateways_read_from_the_tested_standby() -> None:
    """tests/e2e/test_standby_deploy.py runs deploy/postgres/*.sh: compose mounts those files and reads from the standby."""
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "./deploy/postgres/standby.sh:/standby/standby.sh:ro" in compose
    assert (
        "./deploy/postgres/allow-replication.sh:/docker-entrypoint-initdb.d/allow-replication.sh:ro"
        in compose
    )
    assert (
        "FIR_DATABASE_READ_URLS: postgresql://fir:${FIR_DB_PASSWORD:-fir-dev-only}@postgres-standby:5432/fir"
        in compose
    )
