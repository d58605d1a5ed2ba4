"""Registering and unregistering trusted documents: SECAS changes like any other, through the one write path."""

from __future__ import annotations

from collections.abc import Sequence

from loaders import trusted_documents as sql
from loaders.audit import Actor
from loaders.db import Db
from loaders.trusted_documents import TrustedDocumentRow
from loaders.vocabulary import AuditAction, EntityType
from resolvers.unit_of_work import Change, unit_of_work


async def register(db: Db, documents: Sequence[TrustedDocumentRow], manifest: str | None, actor: str) -> int:
    """Adds what is new (an id names one body forever), audited; returns the count added."""
    async with unit_of_work(db, Actor(actor, "SECAS")) as work:
        added = await sql.register(work.tx, documents, manifest)
        after = {"manifest": manifest, "operations": len(documents), "added": added}
        work.record(
            Change(
                AuditAction.TRUSTED_DOCUMENTS_REGISTER,
                EntityType.TRUSTED_DOCUMENTS,
                manifest or "manifest",
                None,
                after,
            )
        )
    return added


async def unregister(
    db: Db, ids: Sequence[str], manifest: str | None, actor: str
) -> list[TrustedDocumentRow]:
    """Removes these ids and a named manifest's documents, audited (the ids and names removed); nothing is
    written when none was registered. Every gateway process forgets them at commit (migration 0011)."""
    async with unit_of_work(db, Actor(actor, "SECAS")) as work:
        removed = await sql.unregister(work.tx, ids, manifest)
        if removed:
            before = {"documents": [{"id": d.id, "name": d.name} for d in removed]}
            after = {"manifest": manifest, "removed": len(removed)}
            work.record(
                Change(
                    AuditAction.TRUSTED_DOCUMENTS_UNREGISTER,
                    EntityType.TRUSTED_DOCUMENTS,
                    manifest or removed[0].id,
                    before,
                    after,
                )
            )
    return removed
