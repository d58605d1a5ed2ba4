"""SQL for trusted documents: register a manifest's operations, look bodies up by id, unregister them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loaders.db import Db


@dataclass(frozen=True, slots=True)
class TrustedDocumentRow:
    id: str
    body: str
    name: str | None
    operation_type: str | None


async def register(tx: Db, documents: Sequence[TrustedDocumentRow], manifest: str | None) -> int:
    """Adds what is new, keeps what is there (an id names one body forever); returns the count added."""
    added = await tx.fetchval(
        "with new as (insert into trusted_documents (id, body, name, operation_type, manifest)"
        " select * , $5::text from unnest($1::text[], $2::text[], $3::text[], $4::text[])"
        " on conflict (id) do nothing returning 1) select count(*) from new",
        [d.id for d in documents],
        [d.body for d in documents],
        [d.name for d in documents],
        [d.operation_type for d in documents],
        manifest,
    )
    return int(added)


# Announced at commit by the delete trigger (migration 0011): an id, or '*' for all.
CHANNEL = "fir_trusted_documents"


async def unregister(tx: Db, ids: Sequence[str], manifest: str | None) -> list[TrustedDocumentRow]:
    """Removes the documents of these ids and, given a manifest name, every document registered under it;
    returns those removed, by id."""
    removed = await tx.fetch(
        "delete from trusted_documents where id = any($1::text[]) or manifest = $2"
        " returning id, body, name, operation_type",
        list(ids),
        manifest,
    )
    return sorted((TrustedDocumentRow(*r) for r in removed), key=lambda d: d.id)


async def body_of(db: Db, document_id: str) -> str | None:
    body: str | None = await db.fetchval("select body from trusted_documents where id = $1", document_id)
    return body


async def count(db: Db) -> int:
    return int(await db.fetchval("select count(*) from trusted_documents"))
