"""The SPEC access table, proven over HTTP with real signed tokens: one table of principal x guarded field.

Every field guarded in the schema must have a row here (the first test fails otherwise), and every
row is asked as every principal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from schema.permissions import GUARDED
from schema.schema import build_schema
from tests.builders import Builder
from tests.conftest import fresh_database
from tests.e2e.server import running_server

V, F, H = "visible", "forbidden", "hidden"  # hidden: null without error (another's draft is not there)
PRINCIPALS = ("anonymous", "reader", "maker_106C", "maker_1063", "secas")
TOKENS = {
    "reader": ("fir:read", None),
    "maker_106C": ("fir:publish", ["106C"]),
    "maker_1063": ("fir:publish", ["1063"]),
    "secas": ("fir:admin", None),
}
DEVICE = '{ device(identity: {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "00000001"}) { %s } }'
FLEET = '{ fleetStatus(devices: [{manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "00000001"}]) { %s } }'
READ_ONLY = dict(anonymous=F, reader=V, maker_106C=V, maker_1063=V, secas=V)

# field -> (query, path to the value, expectation per principal)
MATRIX: dict[str, tuple[str, tuple[Any, ...], dict[str, str]]] = {
    "Manufacturer.website": (
        '{ manufacturer(manufacturerId: "106C") { website } }',
        ("manufacturer", "website"),
        READ_ONLY,
    ),
    "Manufacturer.contacts": (
        '{ manufacturer(manufacturerId: "106C") { contacts { email } } }',
        ("manufacturer", "contacts"),
        READ_ONLY,
    ),
    "CplEntry.release": (
        "{ cplEntry(number: %(entry)s) { release { version } } }",
        ("cplEntry", "release"),
        READ_ONLY,
    ),
    "DeviceFirmwareStatus.current": (DEVICE % "current { version }", ("device", "current"), READ_ONLY),
    "DeviceFirmwareStatus.latest": (DEVICE % "latest { version }", ("device", "latest"), READ_ONLY),
    "DeviceFirmwareStatus.isLatest": (DEVICE % "isLatest", ("device", "isLatest"), READ_ONLY),
    "DeviceFirmwareStatus.upgradePath": (
        DEVICE % "upgradePath { version }",
        ("device", "upgradePath"),
        READ_ONLY,
    ),
    "DeviceFirmwareStatus.lineage": (DEVICE % "lineage { version }", ("device", "lineage"), READ_ONLY),
    "DeviceFirmwareStatus.contacts": (DEVICE % "contacts { email }", ("device", "contacts"), READ_ONLY),
    "FleetStatus.upToDate": (FLEET % "upToDate", ("fleetStatus", "upToDate"), READ_ONLY),
    "FleetStatus.outdated": (FLEET % "outdated", ("fleetStatus", "outdated"), READ_ONLY),
    "FleetStatus.noUpgradePath": (FLEET % "noUpgradePath", ("fleetStatus", "noUpgradePath"), READ_ONLY),
    "Query.firmwareRelease": (
        '{ firmwareRelease(id: "%(published)s") { version } }',
        ("firmwareRelease",),
        READ_ONLY,
    ),
}
# Row-level rules inside guarded fields: drafts and submissions are their owner's and SECAS's.
ROWS: dict[str, tuple[str, tuple[Any, ...], dict[str, str]]] = {
    "submitted release of 106C": (
        '{ firmwareRelease(id: "%(submitted)s") { version } }',
        ("firmwareRelease",),
        dict(anonymous=F, reader=H, maker_106C=V, maker_1063=H, secas=V),
    ),
    "draft release of 106C": (
        '{ firmwareRelease(id: "%(draft)s") { version } }',
        ("firmwareRelease",),
        dict(anonymous=F, reader=H, maker_106C=V, maker_1063=H, secas=V),
    ),
    "public CPL entry": (
        "{ cplEntry(number: %(entry)s) { number imageHash } }",
        ("cplEntry", "number"),
        dict.fromkeys(PRINCIPALS, V),
    ),
    "public manufacturer name": (
        '{ manufacturer(manufacturerId: "106C") { name } }',
        ("manufacturer", "name"),
        dict.fromkeys(PRINCIPALS, V),
    ),
}


@pytest.fixture(scope="module")
async def matrix_db(pg_server: Any, template_db: str) -> tuple[str, dict[str, int]]:
    url = await fresh_database(pg_server.url, template_db)
    conn = await asyncpg.connect(url)
    try:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.manufacturer("1063", "Other Maker Ltd")
        await b.model("106C", "4331", "CHF")
        published = await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01")
        await b.release("106C", "4331", "00AC", "00000002", date="2021-01-01", upgradable_from=("00000001",))
        submitted = await b.release(
            "106C", "4331", "00AC", "00000003", date="2022-01-01", status="SUBMITTED", cpl_status=None
        )
        draft = await b.release(
            "106C", "4331", "00AC", "00000004", date="2022-02-01", status="DRAFT", cpl_status=None
        )
        entry = await conn.fetchval("select cpl_entry_number from firmware_releases where id = $1", published)
    finally:
        await conn.close()
    return url, {"published": published, "submitted": submitted, "draft": draft, "entry": entry}


@pytest.fixture(scope="module")
def server(
    matrix_db: tuple[str, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, dict[str, str | None], dict[str, int]]]:
    url, ids = matrix_db
    data_dir: Path = tmp_path_factory.mktemp("matrix")
    with running_server(url, data_dir, FIR_DEV_AUTH="1") as base:
        settings = dataclasses.replace(
            load_settings(None), data_dir=data_dir, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        issuer = DevIssuer(settings)
        tokens: dict[str, str | None] = {"anonymous": None}
        tokens |= {
            name: issuer.mint(scope, makers, f"matrix-{name}") for name, (scope, makers) in TOKENS.items()
        }
        with httpx.Client(base_url=base, timeout=10) as client:
            yield client, tokens, ids


def test_every_guarded_field_has_a_row() -> None:
    build_schema()
    assert set(GUARDED) == set(MATRIX), "add the new guarded field to MATRIX"


CASES = [(name, who) for name in {**MATRIX, **ROWS} for who in PRINCIPALS]


@pytest.mark.parametrize(("name", "who"), CASES)
def test_visibility(
    server: tuple[httpx.Client, dict[str, str | None], dict[str, int]], name: str, who: str
) -> None:
    client, tokens, ids = server
    query, path, expected = {**MATRIX, **ROWS}[name]
    token = tokens[who]
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query % ids}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    value: Any = body["data"]
    for key in path:
        value = value[key] if value is not None else None
    forbidden = [e for e in body.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN"]
    outcome = F if forbidden else (H if value is None else V)
    if outcome == F:
        assert value in (None, []), "a forbidden field must not carry data"
    assert outcome == expected[who], body
