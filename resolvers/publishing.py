"""Manufacturers publish: submission (published at once when the CPL already lists it) and withdrawal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from loaders import catalogue_writes as cw
from loaders import release_writes as rw
from loaders.rows import ReleaseRow
from loaders.vocabulary import AuditAction, CplStatus, EntityType, ReleaseStatus
from resolvers import release_rules as rules
from resolvers.context import Context
from resolvers.errors import BadUserInput, Conflict, NotFound
from resolvers.identity import Identity, normalise_hex, parse_identity, quoted, require_hex
from resolvers.mutations import clean_text, require_publisher, require_text
from resolvers.principal import Principal
from resolvers.releases import parse_release_id
from resolvers.unit_of_work import Change, UnitOfWork, actor_of, unit_of_work
from resolvers.visibility import can_see_release

MAX_REASON = 2000


@dataclass(frozen=True)
class SubmissionInput:
    """A submission as the client sent it: hex in any case, nothing checked yet."""

    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    release_date: dt.date | None = None
    release_notes: str | None = None
    urgency: str | None = None
    advisories: Sequence[str] = ()
    upgradable_from: Sequence[str] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Submission:
    """A submission that passed every check that needs no database."""

    identity: Identity
    image_hash: str
    release_date: dt.date | None
    release_notes: str | None
    urgency: str | None
    advisories: tuple[str, ...]
    upgradable_from: tuple[str, ...]
    idempotency_key: str | None

    def same_content(self, row: ReleaseRow) -> bool:
        """An identical resubmission: a retry, answered with the existing record."""
        return (
            row.image_hash,
            row.release_date,
            row.release_notes,
            row.urgency,
            row.advisories,
            tuple(sorted(row.upgradable_from)),
        ) == (
            self.image_hash,
            self.release_date,
            self.release_notes,
            self.urgency,
            self.advisories,
            tuple(sorted(self.upgradable_from)),
        )


@dataclass
class Refused(Exception):
    """A conflict found inside the write transaction; it is audited after that transaction rolls back."""

    error: Conflict
    entity_type: EntityType
    entity_id: str
    existing: dict[str, object] = field(default_factory=dict)


# --- validation without the database --------------------------------------------------------------


def validate(raw: SubmissionInput, today: dt.date) -> Submission:
    identity = parse_identity(
        raw.manufacturer_id, raw.model_id, raw.hardware_version, raw.firmware_version, prefix="input."
    )
    return Submission(
        identity=identity,
        image_hash=require_hex(raw.image_hash, 64, "input.imageHash"),
        release_date=rules.release_date(raw.release_date, today),
        release_notes=clean_text(raw.release_notes, "input.releaseNotes", max_length=rules.MAX_NOTES),
        urgency=rules.urgency(raw.urgency),
        advisories=rules.advisories(raw.advisories),
        upgradable_from=rules.upgradable_from(raw.upgradable_from, identity.firmware_version),
        idempotency_key=clean_text(raw.idempotency_key, "input.idempotencyKey", max_length=200),
    )


# --- submission -----------------------------------------------------------------------------------


async def submit(ctx: Context, raw: SubmissionInput, *, today: dt.date | None = None) -> ReleaseRow:
    """Create the FIR record, or return the existing one for a retry; never overwrite."""
    principal = ctx.principal
    manufacturer = normalise_hex(raw.manufacturer_id, 4)
    if manufacturer is not None:  # a malformed identifier is reported by validate() below
        require_publisher(principal, manufacturer, "input.manufacturerId")
    submission = validate(raw, today or dt.date.today())
    require_publisher(principal, submission.identity.manufacturer_id, "input.manufacturerId")
    try:
        async with unit_of_work(ctx.loaders.db, actor_of(principal), loaders=ctx.loaders) as work:
            row = await _submit_in(work, principal, submission)
    except Refused as refused:
        await _record_conflict(ctx, submission, refused)
        raise refused.error from None
    return row


async def _submit_in(work: UnitOfWork, principal: Principal, s: Submission) -> ReleaseRow:
    tx, ident = work.tx, s.identity
    await rw.lock_model(tx, *ident.model_key)
    existing = await _existing(work, s)
    if existing is not None:
        return existing
    if not await rw.model_exists(tx, ident.manufacturer_id, ident.model_id):
        raise BadUserInput(
            f"manufacturer {ident.manufacturer_id} has no device model {ident.model_id}",
            field="input.modelId",
        )
    entry = await cw.cpl_entry_by_identity(tx, *_identity_tuple(ident))
    if entry is not None and entry.image_hash != s.image_hash:
        raise Refused(
            Conflict(
                f"CPL entry {entry.number} lists this firmware with image hash {entry.image_hash}",
                field="input.imageHash",
                cplEntry=entry.number,
            ),
            EntityType.CPL_ENTRY,
            str(entry.number),
            {"imageHash": entry.image_hash},
        )
    await rules.check_upgrade_graph(
        work, s.identity, s.upgradable_from, entry.number if entry is not None else None
    )
    row = await _create(work, principal, s)
    if entry is not None and entry.status == CplStatus.CURRENT:
        [row] = await publish_waiting(work, [entry.number]) or [row]
    return row


async def _existing(work: UnitOfWork, s: Submission) -> ReleaseRow | None:
    """The record a retry or an identical resubmission returns; a contradicting one is refused."""
    tx = work.tx
    if s.idempotency_key is not None:
        prior = await rw.release_by_idempotency_key(tx, s.identity.manufacturer_id, s.idempotency_key)
        if prior is not None:
            return _replay(prior, s)
    live = await rw.live_release(tx, *_identity_tuple(s.identity))
    if live is None:
        return None
    if live.image_hash != s.image_hash:
        raise _conflict_with(
            live,
            f"release {live.id} already records this firmware with image hash {live.image_hash};"
            " withdraw it first",
            "input.imageHash",
        )
    if not s.same_content(live):
        raise _conflict_with(
            live,
            f"release {live.id} already records this firmware with other details; withdraw it first",
            "input",
        )
    return live


def _replay(prior: ReleaseRow, s: Submission) -> ReleaseRow:
    """The release a retried submission made; its key on another firmware or hash is a conflict,
    audited like a resubmission without a key."""
    if prior.identity != _identity_tuple(s.identity) or prior.image_hash != s.image_hash:
        raise _conflict_with(
            prior,
            f"idempotency key already used for release {prior.id} of another firmware",
            "input.idempotencyKey",
        )
    return prior


def _conflict_with(release: ReleaseRow, message: str, field: str) -> Refused:
    """A submission refused for contradicting `release`: CONFLICT naming it, audited with its hash and status."""
    return Refused(
        Conflict(message, field=field, releaseId=str(release.id)),
        EntityType.FIRMWARE_RELEASE,
        str(release.id),
        {"imageHash": release.image_hash, "status": release.status},
    )


async def _create(work: UnitOfWork, principal: Principal, s: Submission) -> ReleaseRow:
    new_id = await rw.insert_release(work.tx, _new_release(principal, s))
    if new_id is None:
        # The model lock rules out a same-identity race; only a key taken for another model lands here.
        raise Conflict("idempotency key already used", field="input.idempotencyKey")
    await rw.insert_upgradable_from(work.tx, new_id, s.upgradable_from)
    [row] = await rw.releases_by_ids(work.tx, [new_id])
    work.record(Change(AuditAction.RELEASE_SUBMIT, EntityType.FIRMWARE_RELEASE, str(new_id), None, row))
    return row


def _new_release(principal: Principal, s: Submission) -> rw.NewRelease:
    ident = s.identity
    return rw.NewRelease(
        manufacturer_id=ident.manufacturer_id,
        model_id=ident.model_id,
        hardware_version=ident.hardware_version,
        firmware_version=ident.firmware_version,
        image_hash=s.image_hash,
        release_date=s.release_date,
        release_notes=s.release_notes,
        urgency=s.urgency,
        advisories=s.advisories,
        idempotency_key=s.idempotency_key,
        actor=principal.actor,
        organisation=principal.organisation,
    )


async def _record_conflict(ctx: Context, s: Submission, refused: Refused) -> None:
    """Its own unit of work: the refused submission wrote nothing, but the attempt is on record."""
    attempted = {
        "identity": "/".join(_identity_tuple(s.identity)),
        "imageHash": s.image_hash,
        "idempotencyKey": s.idempotency_key,
        "reason": refused.error.message,
    }
    async with unit_of_work(ctx.loaders.db, actor_of(ctx.principal), loaders=ctx.loaders) as work:
        work.record(
            Change(
                AuditAction.RELEASE_CONFLICT,
                refused.entity_type,
                refused.entity_id,
                refused.existing,
                attempted,
            )
        )


# --- publication ----------------------------------------------------------------------------------


async def publish_waiting(work: UnitOfWork, numbers: Sequence[int] | None) -> list[ReleaseRow]:
    """Publish the SUBMITTED releases whose identity and image hash a Current CPL entry lists.

    The one publishing rule: a submission that finds its entry listed, `listCplEntry` and the CPL
    import all publish here, so a publication is the same SUBMITTED -> PUBLISHED change
    whichever path made it. `numbers` limits the entries considered (None: every entry).
    """
    pairs = await rw.matching_submissions(work.tx, numbers)
    if not pairs:
        return []
    ids = [release_id for release_id, _ in pairs]
    before = await rw.releases_by_ids(work.tx, ids)
    await rw.publish(work.tx, pairs, actor=work.who.actor)
    after = await rw.releases_by_ids(work.tx, ids)
    work.record_all(
        [
            Change(AuditAction.RELEASE_PUBLISH, EntityType.FIRMWARE_RELEASE, str(new.id), old, new)
            for old, new in zip(before, after, strict=True)
        ]
    )
    return after


def _identity_tuple(ident: Identity) -> tuple[str, str, str, str]:
    return (ident.manufacturer_id, ident.model_id, ident.hardware_version, ident.firmware_version)


# --- withdrawal -----------------------------------------------------------------------------------


async def withdraw(ctx: Context, release_id: str, reason: str) -> ReleaseRow:
    """Keep the record, mark it WITHDRAWN. Withdrawing a withdrawn release returns it unchanged."""
    principal = ctx.principal
    why = require_text(reason, "reason", max_length=MAX_REASON)
    async with unit_of_work(ctx.loaders.db, actor_of(principal), loaders=ctx.loaders) as work:
        row = await owned_release_for_update(work, principal, release_id)
        if row.status == ReleaseStatus.WITHDRAWN:
            return row
        await rw.withdraw(work.tx, row.id, actor=principal.actor, reason=why)
        [after] = await rw.releases_by_ids(work.tx, [row.id])
        work.record(
            Change(AuditAction.RELEASE_WITHDRAW, EntityType.FIRMWARE_RELEASE, str(row.id), row, after)
        )
    return after


async def owned_release_for_update(work: UnitOfWork, principal: Principal, release_id: str) -> ReleaseRow:
    """The release, locked, when this caller may change it: its manufacturer's publisher or SECAS."""
    key = parse_release_id(release_id)
    row = await rw.lock_release(work.tx, key) if key is not None else None
    # Someone else's draft is reported missing, as the read side does, so it cannot be probed.
    if row is None or not can_see_release(principal, row):
        raise NotFound(f"no firmware release {quoted(release_id)}", field="id")
    require_publisher(principal, row.manufacturer_id, "id")
    return row
