"""A submission its manufacturer withdraws before it was published never becomes the FIR's: its notes
and advisories (an embargoed CVE, say) stay the manufacturer's. A release published and then withdrawn
stays public, as the FIR's record of what was offered."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from schema.schema import build_schema
from tests.builders import SUPPLIER, Builder, execute, image_hash, publisher

SCHEMA = build_schema()
MAKER = publisher("106C")
SUBMIT = (
    "mutation($input: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $input) { id status } }"
)
WITHDRAW = (
    'mutation($id: ID!) { withdrawFirmwareRelease(id: $id, reason: "not ready") { status publishedAt } }'
)
RELEASE = "query($id: ID!) { firmwareRelease(id: $id) { id status releaseNotes } }"
ENTITY = (
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on FirmwareRelease { id releaseNotes } } }"
)
SEARCH = '{ firmwareReleases(advisory: "CVE-2026-99999") { nodes { id status } } }'
DEVICE = "query($i: DeviceIdentityInput!) { device(identity: $i) { current { id status } } }"
FEED = "{ changes { edges { node { kind releaseId } } } }"
IDENTITY = {"manufacturerId": "106C", "modelId": "4331", "hardwareVersion": "00AC"}


@pytest.fixture
async def model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        builder = Builder(conn)
        await builder.manufacturer("106C")
        await builder.model("106C", "4331", "CHF")


async def submitted(pool: asyncpg.Pool, version: str, status: str = "SUBMITTED") -> str:
    """Submitted through the API; published at once when a Current CPL entry lists its image."""
    release = {
        **IDENTITY,
        "firmwareVersion": version,
        "imageHash": image_hash(f"106C433100AC{version}"),
        "releaseNotes": "EMBARGOED: fixes CVE-2026-99999",
        "advisories": ["CVE-2026-99999"],
    }
    done = await execute(SCHEMA, pool, SUBMIT, MAKER, input=release)
    assert done.errors is None and done.data["submitFirmwareRelease"]["status"] == status
    return str(done.data["submitFirmwareRelease"]["id"])


async def seen_by(pool: asyncpg.Pool, principal: Any, release_id: str, version: str) -> dict[str, Any]:
    """What `principal` sees of the release through every way a reader reaches one."""
    found = {
        "release": await execute(SCHEMA, pool, RELEASE, principal, id=release_id),
        "entity": await execute(
            SCHEMA, pool, ENTITY, principal, r=[{"__typename": "FirmwareRelease", "id": release_id}]
        ),
        "search": await execute(SCHEMA, pool, SEARCH, principal),
        "device": await execute(SCHEMA, pool, DEVICE, principal, i={**IDENTITY, "firmwareVersion": version}),
        "feed": await execute(SCHEMA, pool, FEED, principal),
    }
    assert all(r.errors is None for r in found.values()), {k: r.errors for k, r in found.items()}
    return {
        "release": found["release"].data["firmwareRelease"],
        "entity": found["entity"].data["_entities"][0],
        "search": [n["id"] for n in found["search"].data["firmwareReleases"]["nodes"]],
        "device": found["device"].data["device"]["current"],
        "feed": [
            e["node"]["kind"]
            for e in found["feed"].data["changes"]["edges"]
            if e["node"]["releaseId"] == release_id
        ],
    }


async def test_a_submission_withdrawn_unpublished_stays_its_makers(pool: asyncpg.Pool, model: None) -> None:
    release_id = await submitted(pool, "00000009")
    withdrawn = await execute(SCHEMA, pool, WITHDRAW, MAKER, id=release_id)
    assert withdrawn.data["withdrawFirmwareRelease"] == {"status": "WITHDRAWN", "publishedAt": None}
    supplier = await seen_by(pool, SUPPLIER, release_id, "00000009")
    assert supplier == {"release": None, "entity": None, "search": [], "device": None, "feed": []}
    maker = await seen_by(pool, MAKER, release_id, "00000009")
    assert maker["release"]["status"] == "WITHDRAWN" and maker["search"] == [release_id]
    assert maker["feed"] == ["RELEASE_WITHDRAWN"]  # its own event: the feed has no submissions


async def test_a_release_published_then_withdrawn_stays_public(pool: asyncpg.Pool, model: None) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).entry("106C", "4331", "00AC", "00000009")
    release_id = await submitted(pool, "00000009", status="PUBLISHED")
    withdrawn = await execute(SCHEMA, pool, WITHDRAW, MAKER, id=release_id)
    assert withdrawn.data["withdrawFirmwareRelease"]["status"] == "WITHDRAWN"
    assert withdrawn.data["withdrawFirmwareRelease"]["publishedAt"] is not None
    supplier = await seen_by(pool, SUPPLIER, release_id, "00000009")
    assert supplier["release"]["status"] == "WITHDRAWN" and supplier["entity"]["id"] == release_id
    assert supplier["search"] == [release_id]
    assert supplier["feed"] == ["RELEASE_PUBLISHED", "RELEASE_WITHDRAWN"]
