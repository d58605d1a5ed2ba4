"""Amendments: a release's notes, urgency, advisories and upgrade sources change; its id and hash never do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from loaders import catalogue_writes as cw
from loaders import release_writes as rw
from loaders.rows import ReleaseRow
from loaders.vocabulary import AuditAction, EntityType, ReleaseStatus
from resolvers import release_rules as rules
from resolvers.context import Context
from resolvers.errors import Conflict
from resolvers.identity import Identity
from resolvers.mutations import clean_text
from resolvers.publishing import MAX_REASON, owned_release_for_update
from resolvers.releases import parse_release_id
from resolvers.unit_of_work import Change, UnitOfWork, actor_of, unit_of_work


@dataclass(frozen=True)
class AmendmentInput:
    """What the client asks to change; None leaves a fact as it is (`clear_*` empties it)."""

    reason: str | None = None
    release_notes: str | None = None
    clear_release_notes: bool = False
    urgency: str | None = None
    clear_urgency: bool = False
    advisories: Sequence[str] | None = None
    upgradable_from: Sequence[str] | None = None


async def amend(ctx: Context, release_id: str, raw: AmendmentInput) -> ReleaseRow:
    """Change notes, urgency, advisories or upgrade sources; the id, identity and hash never change.

    Validated as a submission is, by its owner or SECAS; every revision is kept. An amendment that
    changes nothing writes nothing. A withdrawn release is history and is not amended.
    """
    principal = ctx.principal
    why = clean_text(raw.reason, "input.reason", max_length=MAX_REASON)
    async with unit_of_work(ctx.loaders.db, actor_of(principal), loaders=ctx.loaders) as work:
        await _lock_model_of(work, release_id)
        row = await owned_release_for_update(work, principal, release_id)
        if row.status == ReleaseStatus.WITHDRAWN:
            raise Conflict(f"release {row.id} is withdrawn; submit a new release instead", field="id")
        new = _amended(row, raw)
        if _amendable(row) == replace(new, upgradable_from=tuple(sorted(new.upgradable_from))):
            return row
        ident = Identity(*row.identity)
        entry = await cw.cpl_entry_by_identity(work.tx, *row.identity)
        await rules.check_upgrade_graph(work, ident, new.upgradable_from, entry.number if entry else None)
        await rw.amend(work.tx, row.id, new, actor=principal.actor, reason=why)
        [after] = await rw.releases_by_ids(work.tx, [row.id])
        work.record(Change(AuditAction.RELEASE_AMEND, EntityType.FIRMWARE_RELEASE, str(row.id), row, after))
    return after


async def _lock_model_of(work: UnitOfWork, release_id: str) -> None:
    """The model lock a submission takes, before the release's row lock (the order every writer
    keeps): two amendments of one model's releases must not each pass the cycle check alone (A
    from B and B from A, committed together). A release's model never changes."""
    key = parse_release_id(release_id)
    for found in await rw.releases_by_ids(work.tx, [key]) if key is not None else []:
        await rw.lock_model(work.tx, *found.identity[:3])


def _amendable(row: ReleaseRow) -> rw.Amendment:
    return rw.Amendment(row.release_notes, row.urgency, row.advisories, row.upgradable_from)


def _amended(row: ReleaseRow, raw: AmendmentInput) -> rw.Amendment:
    old = _amendable(row)
    notes = clean_text(raw.release_notes, "input.releaseNotes", max_length=rules.MAX_NOTES)
    sources = old.upgradable_from
    if raw.upgradable_from is not None:
        sources = rules.upgradable_from(raw.upgradable_from, row.firmware_version)
    return rw.Amendment(
        release_notes=None if raw.clear_release_notes else notes or old.release_notes,
        urgency=None if raw.clear_urgency else rules.urgency(raw.urgency) or old.urgency,
        advisories=rules.advisories(raw.advisories) if raw.advisories is not None else old.advisories,
        upgradable_from=sources,
    )
