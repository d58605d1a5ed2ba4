"""The device lineage workload: the GraphQL query, its hand-written baseline, and a check that both agree."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import orjson

from loaders.db import Db, create_pool
from loaders.demo import Identity
from loaders.trusted_documents import TrustedDocumentRow
from resolvers.trusted_documents import register as register_documents

QUERY = (
    "query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl isLatest cplEntry { number status }"
    " latest { version releaseDate } upgradePath { version } lineage { version releaseDate status } } }"
)
FIELDS = ("manufacturerId", "modelId", "hardwareVersion", "firmwareVersion")


def variables(identity: Identity) -> dict[str, str]:
    return dict(zip(FIELDS, identity, strict=True))


def graphql_bodies(identities: list[Identity]) -> list[bytes]:
    return [orjson.dumps({"query": QUERY, "variables": {"id": variables(i)}}) for i in identities]


DOCUMENT_ID = hashlib.sha256(QUERY.encode()).hexdigest()


def by_id_bodies(identities: list[Identity]) -> list[bytes]:
    """The same query as a trusted document: its id in place of its text (README, Trusted documents)."""
    return [orjson.dumps({"documentId": DOCUMENT_ID, "variables": {"id": variables(i)}}) for i in identities]


async def register(url: str) -> None:
    """The query registered as a trusted document in the benchmark database (idempotent)."""
    pool = await create_pool(url, min_size=1, max_size=1)
    try:
        row = TrustedDocumentRow(DOCUMENT_ID, QUERY, "Lineage", "query")
        await register_documents(Db(pool), [row], "benchmark", "bench")
    finally:
        await pool.close()


def baseline_bodies(identities: list[Identity]) -> list[bytes]:
    return [orjson.dumps(variables(i)) for i in identities]


async def disagreements(base: str, token: str, identities: list[Identity]) -> list[tuple[Identity, Any, Any]]:
    """Identities whose GraphQL and baseline answers differ; also warms whatever the server caches.

    The benchmark compares the two endpoints' speed, which only means something when they say the same.
    """
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def one(identity: Identity) -> tuple[Identity, Any, Any]:
            async with gate:
                gql = await client.post("/graphql", content=graphql_bodies([identity])[0])
                plain = await client.post("/baseline/device", content=baseline_bodies([identity])[0])
            return identity, gql.json(), plain.json()

        answers = await asyncio.gather(*(one(i) for i in identities))
    return [(i, g, b) for i, g, b in answers if "errors" in g or g != b]
