"""The CPL's listing rules, for the import and listCplEntry alike: staged rows become entries, and publish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import cpl_import as sql
from loaders import cpl_issues
from loaders import release_writes as rw
from loaders.rows import CplEntryRow, CplRow, ReleaseRow
from loaders.vocabulary import AuditAction, CplStatus, EntityType
from resolvers.cpl_issues import parse_issue
from resolvers.publishing import publish_waiting
from resolvers.unit_of_work import Change, UnitOfWork


@dataclass(frozen=True)
class Listed:
    """What one application of staged rows did."""

    conflicts: list[sql.StageConflict]
    added: list[CplEntryRow]
    updated: int
    removed: int  # newly Removed: Current before
    unchanged: int
    published: list[ReleaseRow]


async def begin(work: UnitOfWork) -> None:
    """An empty stage in this unit of work's transaction, which holds the listings lock from now on:
    a submission or amendment under way finishes first, and the next waits for this listing."""
    await rw.lock_listings(work.tx)
    await sql.create_stage(work.tx)


async def stage(
    work: UnitOfWork,
    rows: Sequence[CplRow],
    today: dt.date,
    *,
    listed_on: dt.date | None = None,
    model_names: Sequence[str | None] | None = None,
) -> None:
    """Stage rows, each stated on the date of the CPL issue its Version names (`today` if none).

    `listed_on` overrides that date (listCplEntry's explicit input). New issues are recorded.
    """
    issues = [parse_issue(row.cpl_version) for row in rows]
    seen = {i.number: i for i in issues if i is not None}
    await cpl_issues.record_issues(
        work.tx, list(seen), [i.title for i in seen.values()], [i.issued_on for i in seen.values()]
    )
    days = [listed_on or (i.issued_on if i is not None else today) for i in issues]
    numbers = [i.number if i is not None else None for i in issues]
    await sql.stage_rows(work.tx, rows, stated_on=days, issues=numbers, model_names=model_names)


async def apply(work: UnitOfWork, *, publish_for: Sequence[int] | None) -> Listed:
    """Staged rows that contradict the FIR are set aside; the rest list, re-state or remove entries.

    New manufacturers and models are made first; then the SUBMITTED releases that the entries
    `publish_for` (None: every entry) now list with the same hash are published. Each change is
    recorded in `work`, in that order.
    """
    tx = work.tx
    await sql.finish_staging(tx)
    conflicts = await sql.reject_conflicts(tx)
    makers, models = await sql.create_missing_models(tx)
    work.record_all([_made(AuditAction.MANUFACTURER_CREATE, m.manufacturer_id, m) for m in makers])
    work.record_all(
        [_made(AuditAction.DEVICE_MODEL_CREATE, f"{m.manufacturer_id}/{m.model_id}", m) for m in models]
    )
    applied = await sql.apply_stage(tx)
    work.record_all([_entry_change(None, e) for e in applied.added])
    changes = [_entry_change(before, after) for before, after in applied.changed]
    work.record_all(changes)
    removed = sum(c.action is AuditAction.CPL_ENTRY_REMOVE for c in changes)
    return Listed(
        conflicts=conflicts,
        added=applied.added,
        updated=len(changes) - removed,
        removed=removed,
        unchanged=applied.unchanged,
        published=await publish_waiting(work, publish_for),
    )


def _made(action: AuditAction, entity_id: str, row: object) -> Change:
    entity = EntityType.MANUFACTURER if action is AuditAction.MANUFACTURER_CREATE else EntityType.DEVICE_MODEL
    return Change(action, entity, entity_id, None, row)


def _entry_change(before: CplEntryRow | None, after: CplEntryRow) -> Change:
    if before is None:
        action = AuditAction.CPL_ENTRY_LIST
    elif before.status == CplStatus.CURRENT and after.status == CplStatus.REMOVED:
        action = AuditAction.CPL_ENTRY_REMOVE
    else:
        action = AuditAction.CPL_ENTRY_UPDATE
    return Change(action, EntityType.CPL_ENTRY, str(after.number), before, after)
