"""The benchmark's baseline endpoint answers exactly what the GraphQL lineage query answers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import asyncpg
import httpx

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from loaders.demo import demo_identities, load_demo_data
from tests.e2e.server import running_server
from tests.perf.lineage import disagreements


async def test_baseline_agrees_with_graphql_on_demo_data(db_url: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await load_demo_data(conn)
        identities = await demo_identities(conn, 200)
    finally:
        await conn.close()
    with running_server(db_url, tmp_path, FIR_DEV_AUTH="1", FIR_BASELINE_ENDPOINT="1", FIR_CACHE="0") as base:
        port = int(base.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, port=port, dev_auth=True)
        token = DevIssuer(settings).mint("fir:read", None, "baseline-test")
        assert await disagreements(base, token, identities) == []
        body = dict(
            zip(
                ["manufacturerId", "modelId", "hardwareVersion", "firmwareVersion"],
                identities[0],
                strict=True,
            )
        )
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            anonymous = await client.post("/baseline/device", json=body)
            # String! as in GraphQL: a number or null is refused, not read as "4331" or "None"
            headers = {"authorization": f"Bearer {token}"}
            for field, value in (("modelId", 4331), ("firmwareVersion", None)):
                refused = await client.post("/baseline/device", json=body | {field: value}, headers=headers)
                assert refused.status_code == 400, refused.text
                assert refused.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
        assert anonymous.status_code == 403
