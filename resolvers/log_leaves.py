"""The transparency log's leaf encoding (version 2): which changes are logged, as canonical JSON bytes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import orjson

from loaders.rows import CplEntryRow, ReleaseRow
from loaders.vocabulary import AuditAction, ReleaseStatus

LEAF_VERSION = 2  # 2: FIR facts salted; 1 (before): no salt
SALT_BYTES = 16

_RELEASE_EVENTS = {
    AuditAction.RELEASE_PUBLISH: "published",
    AuditAction.RELEASE_WITHDRAW: "withdrawn",
    AuditAction.RELEASE_AMEND: "amended",
}
_CPL_EVENTS = {
    AuditAction.CPL_ENTRY_LIST: "listed",
    AuditAction.CPL_ENTRY_UPDATE: "updated",
    AuditAction.CPL_ENTRY_REMOVE: "removed",
}


def canonical(fields: dict[str, object]) -> bytes:
    """UTF-8 JSON, keys sorted, no whitespace: one byte string per fact."""
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def salt() -> str:
    """A FIR fact's leaf carries 128 random bits: the hash tiles and proofs are public, and without
    them anyone could hash guesses of a release or contact set (its identity, hash, id and sources
    mostly public or small) until one is in the log, learning what only fir:read may see. The salt
    is in the leaf, which only callers who may see the fact are given."""
    return secrets.token_hex(SALT_BYTES)


def release_leaf(event: str, row: ReleaseRow) -> bytes:
    return canonical(
        {
            "v": LEAF_VERSION,
            "salt": salt(),
            "type": "release",
            "event": event,
            "id": row.id,
            "manufacturer_id": row.manufacturer_id,
            "model_id": row.model_id,
            "hardware_version": row.hardware_version,
            "firmware_version": row.firmware_version,
            "image_hash": row.image_hash,
            "status": row.status,
            "cpl_entry_number": row.cpl_entry_number,
            "upgradable_from": sorted(row.upgradable_from),
        }
    )


def cpl_entry_leaf(event: str, row: CplEntryRow) -> bytes:
    return canonical(
        {
            "v": LEAF_VERSION,
            "type": "cpl_entry",
            "event": event,
            "number": row.number,
            "manufacturer_id": row.manufacturer_id,
            "model_id": row.model_id,
            "hardware_version": row.hardware_version,
            "firmware_version": row.firmware_version,
            "image_hash": row.image_hash,
            "status": row.status,
        }
    )


def contacts_leaf(manufacturer_id: str, contacts: Sequence[object]) -> bytes:
    listed = orjson.loads(orjson.dumps(list(contacts)))
    return canonical(
        {
            "v": LEAF_VERSION,
            "salt": salt(),
            "type": "contacts",
            "event": "set",
            "manufacturer_id": manufacturer_id,
            "contacts": listed,
        }
    )


def leaf_of(action: AuditAction, entity_id: str, after: object) -> bytes | None:
    """The leaf a change appends, or None: only published facts, never drafts or submissions."""
    if action in _RELEASE_EVENTS and isinstance(after, ReleaseRow):
        return release_leaf(_RELEASE_EVENTS[action], after) if _public(action, after) else None
    if action in _CPL_EVENTS and isinstance(after, CplEntryRow):
        return cpl_entry_leaf(_CPL_EVENTS[action], after)
    if action is AuditAction.CONTACTS_SET and isinstance(after, list):
        return contacts_leaf(entity_id, after)
    return None


def _public(action: AuditAction, row: ReleaseRow) -> bool:
    if action is AuditAction.RELEASE_WITHDRAW:
        return row.published_at is not None  # a withdrawn submission was never public
    return row.status == ReleaseStatus.PUBLISHED
