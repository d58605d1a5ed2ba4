"""The PostGraphile v5 benchmark peer: read-only, its rows are FIR graph's rows, its figures replace only their lines."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from loaders.demo import demo_identities, load_demo_data
from tests.e2e.server import running_server
from tests.perf import peer_query
from tests.perf import postgraphile as peer
from tests.perf.report import Row

RELEASE = {"status": "PUBLISHED", "releaseDate": "2020-01-02", "cplEntryNumber": 7}
PEER_ANSWER: dict[str, Any] = {
    "data": {
        "cplEntryByManufacturerIdAndModelIdAndHardwareVersionAndFirmwareVersion": {
            "number": 7, "status": "CURRENT", "deviceType": "ESME", "imageHash": "AB",
            "deviceModelByManufacturerIdAndModelId": {
                "manufacturerId": "1001", "modelId": "0001", "name": "M", "deviceType": "ESME",
                "manufacturerByManufacturerId": {
                    "manufacturerId": "1001", "name": "Maker", "website": None,
                    "contactsByManufacturerId": {"nodes": [{"role": "SUPPORT", "name": "A", "email": None, "phone": None}]},
                },
                "firmwareReleasesByManufacturerIdAndModelId": {"nodes": [{
                    "rowId": "3", "firmwareVersion": "00000002", **RELEASE,
                    "cplEntryByCplEntryNumber": {"status": "CURRENT"},
                    "releaseUpgradableFromsByReleaseId": {"nodes": [{"fromFirmwareVersion": "00000001"}]},
                }]},
            },
        }
    }
}  # fmt: skip
FIR_ANSWER: dict[str, Any] = {
    "data": {
        "device": {
            "cplEntry": {"number": 7, "status": "CURRENT", "deviceType": "ESME", "imageHash": "AB"},
            "model": {"manufacturerId": "1001", "modelId": "0001", "name": "M", "deviceType": "ESME"},
            "manufacturer": {"manufacturerId": "1001", "name": "Maker", "website": None},
            "contacts": [{"role": "SUPPORT", "name": "A", "email": None, "phone": None}],
            "lineage": [{
                "id": "3", "version": "00000002", **RELEASE,
                "cplEntry": {"status": "CURRENT"}, "upgradableFromVersions": ["00000001"],
            }],
        }
    }
}  # fmt: skip


def test_both_answers_normalise_to_the_same_rows_and_a_changed_edge_shows() -> None:
    assert peer_query.fir_rows(FIR_ANSWER) == peer_query.peer_rows(PEER_ANSWER)
    changed = copy.deepcopy(FIR_ANSWER)
    changed["data"]["device"]["lineage"][0]["upgradableFromVersions"] = []
    assert peer_query.fir_rows(changed) != peer_query.peer_rows(PEER_ANSWER)
    retired = copy.deepcopy(PEER_ANSWER)
    entry = retired["data"]["cplEntryByManufacturerIdAndModelIdAndHardwareVersionAndFirmwareVersion"]
    entry["deviceModelByManufacturerIdAndModelId"]["manufacturerByManufacturerId"][
        "contactsByManufacturerId"
    ] = {"nodes": []}
    assert peer_query.fir_rows(FIR_ANSWER) != peer_query.peer_rows(retired)


DOCUMENT = """# Benchmarks

## Figures

| figure | measured | target | verdict |
|---|---|---|---|
| lineage | 1 req/s | - | - |

## Details

- demo data load
- load average

## Fleet files

| figure | measured | target | verdict |
|---|---|---|---|
| fleet file | 1 s | - | - |
"""


def test_its_rows_and_details_are_replaced_and_nothing_else() -> None:
    first = peer.with_rows(DOCUMENT, [Row(f"{peer.PREFIX}: a", "1")], [f"{peer.PREFIX}: a detail"])
    second = peer.with_rows(
        first, [Row(f"{peer.PREFIX}: b", "2"), Row(f"{peer.PREFIX}: c", "3")], [f"{peer.PREFIX}: b"]
    )
    lines = second.splitlines()
    assert lines[lines.index("| lineage | 1 req/s | - | - |") + 1 :][:2] == [
        f"| {peer.PREFIX}: b | 2 | - | - |",
        f"| {peer.PREFIX}: c | 3 | - | - |",
    ]
    assert lines[lines.index("- load average") + 1] == f"- {peer.PREFIX}: b"
    assert [line for line in lines if peer.PREFIX not in line] == DOCUMENT.splitlines()


@pytest.mark.skipif(peer.installed() is not None, reason=f"{peer.installed()}")
async def test_postgraphile_returns_the_rows_fir_graph_returns(db_url: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await load_demo_data(conn)
        identities = await demo_identities(conn, 100)
        # a retired contact: both must leave it out (the peer by its condition retiredAt: null)
        retired = await conn.execute(
            "update contacts set retired_at = now()"
            " where id = (select min(id) from contacts where manufacturer_id = $1)",
            identities[0][0],
        )
        assert retired == "UPDATE 1"
    finally:
        await conn.close()
    with (
        running_server(db_url, tmp_path, FIR_DEV_AUTH="1", FIR_CACHE="0") as base,
        peer.running(db_url, tmp_path / "peer", lifetime=300) as pgl,
    ):
        port = int(base.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, port=port, dev_auth=True)
        token = DevIssuer(settings).mint("fir:read", None, "peer-test")
        assert await peer_query.disagreements(base, token, pgl.base, identities) == []
        async with httpx.AsyncClient(timeout=10) as client:
            schema = await client.post(
                f"{pgl.base}/graphql", json={"query": "{ __schema { mutationType { name } } }"}
            )
    assert schema.json() == {"data": {"__schema": {"mutationType": None}}}  # read-only: no mutations at all
