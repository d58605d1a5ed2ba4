"""Trusted documents over HTTP: a manifest registered by the CLI, requests by id, refusals per caller class."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import running_server
from tests.e2e.test_dev_auth import mint
from tests.e2e.test_http import DEVICE, IDENT, seeded  # noqa: F401  (fixture)
from tests.e2e.test_subscriptions_ws import next_message, open_session

OTHER = "{ manufacturers(first: 1) { edges { node { name } } } }"
DEVICE_ID = hashlib.sha256(DEVICE.encode()).hexdigest()
OTHER_ID = hashlib.sha256(OTHER.encode()).hexdigest()


def register(database_url: str, manifest: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return fir(database_url, tmp_path, "register-documents", str(path), "--name", "portal-v1")


def fir(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env={**os.environ, "DATABASE_URL": database_url, "FIR_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def server(seeded: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str | None]]]:  # noqa: F811
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": DEVICE_ID, "name": "Device", "type": "query", "body": DEVICE}],
    }
    done = register(seeded, manifest, tmp_path)
    assert done.returncode == 0 and "1 new" in done.stderr, done.stderr
    again = register(seeded, manifest, tmp_path)
    assert "0 new; 1 trusted documents" in again.stderr, again.stderr  # registering twice changes nothing
    env = {"FIR_DEV_AUTH": "1", "FIR_TRUSTED_DOCUMENTS_ONLY": "anonymous,read"}
    with running_server(seeded, tmp_path, **env) as base:
        port = {"FIR_PORT": base.rsplit(":", 1)[1]}
        tokens = {
            "anonymous": None,
            "read": mint(tmp_path, port, "fir:read"),
            "admin": mint(tmp_path, port, "fir:admin"),
        }
        yield base, tokens


def post(base: str, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{base}/graphql", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def code(answer: dict[str, Any]) -> str | None:
    errors = answer.get("errors") or [{}]
    found: str | None = errors[0].get("extensions", {}).get("code")
    return found


BY_HASH = {
    "variables": {"id": IDENT},
    "extensions": {"persistedQuery": {"version": 1, "sha256Hash": DEVICE_ID}},
}


def test_by_caller_class(
    server: tuple[str, dict[str, str | None]],
    seeded: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """One server for every case: starting one costs seconds on a shared machine."""
    base, tokens = server
    for caller, token in tokens.items():
        registered_documents_run(base, token, caller)
    for caller in ("anonymous", "read"):
        restricted_callers_run_nothing_else(base, tokens[caller], caller)
    secas_runs_anything(base, tokens["admin"])
    unregistered_documents_are_refused(base, tokens["read"], seeded, tmp_path)


def unregistered_documents_are_refused(
    base: str, token: str | None, database_url: str, tmp_path: Path
) -> None:
    """`fir unregister-documents`: the running server, which remembered the body and cached the answer
    above, refuses the id once the removal commits (its notifier hears the trigger of migration 0011)."""
    assert fir(database_url, tmp_path, "unregister-documents").returncode == 2
    malformed = fir(database_url, tmp_path, "unregister-documents", "not-a-hash")
    assert malformed.returncode == 2 and "64 hex digits" in malformed.stderr, malformed.stderr
    done = fir(database_url, tmp_path, "unregister-documents", f"sha256:{DEVICE_ID}", OTHER_ID)
    assert done.returncode == 0, done.stderr
    assert f"unregistered {DEVICE_ID} Device" in done.stderr, done.stderr
    assert f"not registered: {OTHER_ID}" in done.stderr
    assert "1 unregistered; 0 trusted documents registered" in done.stderr
    deadline = time.monotonic() + 5
    while (found := code(post(base, token, BY_HASH))) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found == "PERSISTED_QUERY_NOT_FOUND"


def registered_documents_run(base: str, token: str | None, caller: str) -> None:
    seen: list[str] = []
    for body in (BY_HASH, {"documentId": f"sha256:{DEVICE_ID}", "variables": {"id": IDENT}}):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{base}/graphql", json=body, headers=headers, timeout=30)
        answer = response.json()
        seen.append(response.headers.get("x-fir-cache", "none"))
        assert answer["data"]["device"]["onCpl"] is True, (caller, answer)
    # the second request by id is answered from the response cache (both ids name one document)
    assert seen == ["miss", "hit"], (caller, seen)
    params = {"documentId": DEVICE_ID, "variables": json.dumps({"id": IDENT})}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    extensions = json.dumps(BY_HASH["extensions"])
    for query in (params, {"extensions": extensions, "variables": params["variables"]}):
        got = httpx.get(f"{base}/graphql", params=query, headers=headers, timeout=30).json()
        assert got["data"]["device"]["onCpl"] is True, (caller, got)


def restricted_callers_run_nothing_else(base: str, token: str | None, caller: str) -> None:
    assert code(post(base, token, {"query": OTHER})) == "TRUSTED_DOCUMENT_REQUIRED", caller
    # refused before parsing: not even a syntax error is reported
    assert code(post(base, token, {"query": "{ not graphql"})) == "TRUSTED_DOCUMENT_REQUIRED"
    # the registered document's own text, sent as text, is not a trusted-document request either
    assert (
        code(post(base, token, {"query": DEVICE, "variables": {"id": IDENT}})) == "TRUSTED_DOCUMENT_REQUIRED"
    )
    unknown = {"query": OTHER, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": OTHER_ID}}}
    assert code(post(base, token, unknown)) == "PERSISTED_QUERY_NOT_FOUND"
    assert code(post(base, token, {"documentId": "0" * 64})) == "PERSISTED_QUERY_NOT_FOUND"
    assert code(post(base, token, {"documentId": "not-a-hash"})) == "BAD_USER_INPUT"


def secas_runs_anything(base: str, token: str | None) -> None:
    assert post(base, token, {"query": OTHER})["data"]["manufacturers"]["edges"]
    # an id we do not know, with its text (how automatic persisted queries retry): runs, unregistered
    sent = {"query": OTHER, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": OTHER_ID}}}
    assert post(base, token, sent)["data"]["manufacturers"]["edges"]
    assert code(post(base, token, {"documentId": OTHER_ID})) == "PERSISTED_QUERY_NOT_FOUND"
    mismatch = {
        "query": OTHER,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": DEVICE_ID[::-1]}},
    }
    assert code(post(base, token, mismatch)) == "BAD_USER_INPUT"


def test_codegen_manifest_registers_and_a_wrong_hash_is_refused(seeded: str, tmp_path: Path) -> None:  # noqa: F811
    assert register(seeded, {OTHER_ID: OTHER}, tmp_path).returncode == 0
    sha1 = hashlib.sha1(OTHER.encode()).hexdigest()  # noqa: S324  (what codegen hashes by default)
    refused = register(seeded, {sha1: OTHER}, tmp_path)
    assert refused.returncode == 1 and "hashAlgorithm" in refused.stderr, refused.stderr
    broken = register(seeded, {hashlib.sha256(b"{ x").hexdigest(): "{ x"}, tmp_path)
    assert broken.returncode == 1 and "Syntax Error" in broken.stderr, broken.stderr


async def test_websocket_operations_follow_the_same_rules(server: tuple[str, dict[str, str | None]]) -> None:
    base, tokens = server
    ws = await open_session(base, tokens["read"])
    assert (await next_message(ws))["type"] == "connection_ack"
    raw = {"query": "subscription { firmwareReleased { version } }"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": raw}))
    refused = await next_message(ws)
    assert (
        refused["type"] == "error"
        and refused["payload"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    )
    by_id = {"documentId": DEVICE_ID, "variables": {"id": IDENT}}
    await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": by_id}))
    answer = await next_message(ws)
    assert answer["type"] == "next" and answer["payload"]["data"]["device"]["onCpl"] is True, answer
    await ws.close()
    secas = await open_session(base, tokens["admin"])
    assert (await next_message(secas))["type"] == "connection_ack"
    text = {"query": DEVICE, "variables": {"id": IDENT}}
    await secas.send(json.dumps({"id": "1", "type": "subscribe", "payload": text}))
    assert (await next_message(secas))["payload"]["data"]["device"]["onCpl"] is True
    await secas.close()
