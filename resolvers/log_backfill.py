"""Backfill: a leaf for every published fact that has none (data from before the log, or loaded by COPY)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import orjson

from loaders import audit, catalogue_writes, tlog
from loaders import tlog_backfill as sql
from loaders.audit import Actor
from loaders.db import Db
from loaders.rows import ContactRow, CplEntryRow, ReleaseRow
from loaders.vocabulary import AuditAction, CplStatus, EntityType, ReleaseStatus
from resolvers.log_leaves import leaf_of
from resolvers.transparency import append_leaves, public_sources

CHUNK = 2000  # facts per read and per append statement: bounded memory whatever the FIR's size
Progress = Callable[[int, int], None]  # (leaves appended so far, leaves to append)


async def backfill(db: Db, who: Actor, progress: Progress | None = None) -> int:
    """Append what each unlogged fact is now, in one transaction holding the append lock; leaves appended.

    Idempotent: the unlogged facts are read under the lock, so a second run, or two replicas starting
    together, append each fact once. The leaves are those the unit of work would have written for the
    fact's last change (README: Verifying FIR data), so a verifier needs nothing new. A backfill that
    appends is one audit event, naming who ran it and the leaves' range.
    """
    async with db.transaction() as tx:
        await tlog.lock_appends(tx)
        start = await tlog.tree_size(tx)
        total, done = await sql.unlogged_count(tx), 0
        async for leaves in _unlogged(tx):
            await append_leaves(tx, leaves)
            done += len(leaves)
            if progress is not None:
                progress(done, total)
        if done:
            await audit.record(tx, who, [_event(start, done)])
    return done


def _event(start: int, appended: int) -> audit.AuditEntry:
    after = orjson.dumps({"first_leaf": start, "leaves": appended}).decode()
    return audit.AuditEntry(AuditAction.LOG_BACKFILL, EntityType.TRANSPARENCY_LOG, "log", None, after)


async def _unlogged(tx: Db) -> AsyncIterator[list[tlog.NewLeaf]]:
    """CPL entries by number, then public releases by id, then contact sets by manufacturer."""
    after = 0
    while entries := await sql.unlogged_cpl_entries(tx, after=after, limit=CHUNK):
        yield [_entry_leaf(e) for e in entries]
        after = entries[-1].number
    after = 0
    while releases := await sql.unlogged_releases(tx, after=after, limit=CHUNK):
        public = await public_sources(tx, releases)  # as the unit of work logs them
        yield [_release_leaf(public[id(r)]) for r in releases]
        after = releases[-1].id
    if contacts := await sql.unlogged_contacts(tx):
        yield [_contacts_leaf(mid, live) for mid, live in contacts.items()]


def _entry_leaf(entry: CplEntryRow) -> tlog.NewLeaf:
    removed = entry.status == CplStatus.REMOVED
    action = AuditAction.CPL_ENTRY_REMOVE if removed else AuditAction.CPL_ENTRY_LIST
    return _leaf(action, EntityType.CPL_ENTRY, str(entry.number), entry)


def _release_leaf(release: ReleaseRow) -> tlog.NewLeaf:
    withdrawn = release.status == ReleaseStatus.WITHDRAWN
    action = AuditAction.RELEASE_WITHDRAW if withdrawn else AuditAction.RELEASE_PUBLISH
    return _leaf(action, EntityType.FIRMWARE_RELEASE, str(release.id), release)


def _contacts_leaf(manufacturer_id: str, live: list[ContactRow]) -> tlog.NewLeaf:
    """The set as setContacts records it (resolvers/administration.py): no manufacturer in each contact."""
    contacts = [catalogue_writes.NewContact(c.role, c.name, c.email, c.phone) for c in live]
    return _leaf(AuditAction.CONTACTS_SET, EntityType.MANUFACTURER, manufacturer_id, contacts)


def _leaf(action: AuditAction, entity_type: EntityType, entity_id: str, after: object) -> tlog.NewLeaf:
    """The leaf the unit of work appends for this change (one encoding, resolvers/log_leaves.py)."""
    leaf = leaf_of(action, entity_id, after)
    assert leaf is not None, f"{action} of {entity_type} {entity_id} is not a published fact"
    return tlog.NewLeaf(leaf, entity_type, entity_id)
