"""SECAS administers: manufacturers, contacts (also the manufacturer's own), CPL listings, the audit log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import audit
from loaders import catalogue_writes as cw
from loaders import release_writes as rw
from loaders.cpl_import import StageConflict
from loaders.rows import AuditEventRow, CplEntryRow, CplRow, ManufacturerRow
from loaders.vocabulary import AuditAction, CplStatus, DeviceType, EntityType
from resolvers import cpl_listing as listing
from resolvers.context import Context
from resolvers.errors import BadUserInput, Conflict, NotFound
from resolvers.identity import parse_identity, require_hex
from resolvers.mutations import clean_text, require_publisher, require_text
from resolvers.pagination import INT64_MAX, Keyset, Page, decimal_key, fetch_page
from resolvers.unit_of_work import Change, actor_of, unit_of_work

MAX_CONTACTS = 50
_WEBSITE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{2,39}")


# --- manufacturers --------------------------------------------------------------------------------


async def upsert_manufacturer(
    ctx: Context, manufacturer_id: str, name: str, website: str | None
) -> ManufacturerRow:
    """Create or rename; an unchanged manufacturer is returned without a write or an audit row."""
    mid = require_hex(manufacturer_id, 4, "input.manufacturerId")
    clean_name = require_text(name, "input.name", max_length=200)
    clean_site = clean_text(website, "input.website", max_length=500)
    if clean_site is not None and not _WEBSITE.fullmatch(clean_site):
        raise BadUserInput("input.website must be an http(s) address", field="input.website")
    async with unit_of_work(ctx.loaders.db, actor_of(ctx.principal), loaders=ctx.loaders) as work:
        before = await cw.manufacturer_for_update(work.tx, mid)
        if before is not None and (before.name, before.website) == (clean_name, clean_site):
            return before
        after = await cw.upsert_manufacturer(work.tx, mid, clean_name, clean_site)
        work.record(Change(AuditAction.MANUFACTURER_UPSERT, EntityType.MANUFACTURER, mid, before, after))
    return after


# --- contacts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactInput:
    role: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


async def set_contacts(
    ctx: Context, manufacturer_id: str, contacts: Sequence[ContactInput]
) -> ManufacturerRow:
    """Replace the live set: old rows are retired, never deleted. An unchanged set writes nothing."""
    mid = require_hex(manufacturer_id, 4, "manufacturerId")
    require_publisher(ctx.principal, mid, "manufacturerId")
    wanted = _contacts(mid, contacts)
    async with unit_of_work(ctx.loaders.db, actor_of(ctx.principal), loaders=ctx.loaders) as work:
        row = await cw.manufacturer_for_update(work.tx, mid)  # the lock serialises concurrent replacements
        if row is None:
            raise NotFound(f"no manufacturer {mid}", field="manufacturerId")
        before = [
            cw.NewContact(c.role, c.name, c.email, c.phone) for c in await cw.live_contacts(work.tx, mid)
        ]
        if before == wanted:
            return row
        await cw.replace_contacts(work.tx, mid, wanted)
        work.record(Change(AuditAction.CONTACTS_SET, EntityType.MANUFACTURER, mid, before, wanted))
    return row


def _contacts(mid: str, contacts: Sequence[ContactInput]) -> list[cw.NewContact]:
    if len(contacts) > MAX_CONTACTS:
        raise BadUserInput(f"at most {MAX_CONTACTS} contacts", field="contacts")
    return [_contact(c, f"contacts[{i}]") for i, c in enumerate(contacts)]


def _contact(c: ContactInput, where: str) -> cw.NewContact:
    name = clean_text(c.name, f"{where}.name", max_length=200)
    email = clean_text(c.email, f"{where}.email", max_length=254)
    phone = clean_text(c.phone, f"{where}.phone", max_length=40)
    if email is not None and not _EMAIL.fullmatch(email):
        raise BadUserInput(f"{where}.email is not an email address", field=f"{where}.email")
    if phone is not None and not _PHONE.fullmatch(phone):
        raise BadUserInput(f"{where}.phone is not a phone number", field=f"{where}.phone")
    if name is None and email is None and phone is None:
        raise BadUserInput(f"{where} needs a name, an email or a phone number", field=where)
    return cw.NewContact(role=c.role, name=name, email=email, phone=phone)


# --- CPL entries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CplEntryInput:
    number: int
    device_type: str
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    status: str = CplStatus.CURRENT
    smets_chts_version: str | None = None
    gbcs_version: str | None = None
    cpl_version: str | None = None
    listed_on: dt.date | None = None
    model_name: str | None = None


async def list_cpl_entry(ctx: Context, raw: CplEntryInput, *, today: dt.date | None = None) -> CplEntryRow:
    """List (or re-state) one CPL entry and publish the submissions waiting for it.

    The same listing rules as the CPL import (resolvers/cpl_listing.py): a one-row stage.
    """
    entry = _cpl_entry(raw)
    model_name = clean_text(raw.model_name, "input.modelName", max_length=200)
    async with unit_of_work(ctx.loaders.db, actor_of(ctx.principal), loaders=ctx.loaders) as work:
        await listing.begin(work)  # the listings lock: a submission and this listing never miss each other
        await listing.stage(
            work, [entry], today or dt.date.today(), listed_on=raw.listed_on, model_names=[model_name]
        )
        listed = await listing.apply(work, publish_for=[entry.number])
        if listed.conflicts:
            raise _listing_conflict(listed.conflicts[0])
        row = await cw.cpl_entry_for_update(work.tx, entry.number)
    assert row is not None
    return row


def _cpl_entry(raw: CplEntryInput) -> CplRow:
    if raw.number <= 0:
        raise BadUserInput("input.number must be positive", field="input.number")
    if raw.device_type not in set(DeviceType):
        raise BadUserInput(f"input.deviceType must be one of {[*DeviceType]}", field="input.deviceType")
    if raw.status not in set(CplStatus):
        raise BadUserInput(f"input.status must be one of {[*CplStatus]}", field="input.status")
    ident = parse_identity(
        raw.manufacturer_id, raw.model_id, raw.hardware_version, raw.firmware_version, prefix="input."
    )
    return CplRow(
        row_number=1,
        number=raw.number,
        status=raw.status,
        manufacturer_id=ident.manufacturer_id,
        model_id=ident.model_id,
        hardware_version=ident.hardware_version,
        firmware_version=ident.firmware_version,
        device_type=raw.device_type,
        smets_chts_version=clean_text(raw.smets_chts_version, "input.smetsChtsVersion", max_length=200),
        gbcs_version=clean_text(raw.gbcs_version, "input.gbcsVersion", max_length=200),
        image_hash=require_hex(raw.image_hash, 64, "input.imageHash"),
        cpl_version=clean_text(raw.cpl_version, "input.cplVersion", max_length=200),
    )


def _listing_conflict(c: StageConflict) -> Conflict:
    if c.field == "number":
        return Conflict(
            f"this device identity is already listed as entry {c.existing_number}", field="input.number"
        )
    return Conflict(
        f"entry {c.number} already lists another device identity or image hash", field="input.number"
    )


async def remove_cpl_entry(
    ctx: Context, number: int, reason: str, *, today: dt.date | None = None
) -> CplEntryRow:
    """Mark REMOVED with today's date; never deleted. Removing a removed entry returns it unchanged."""
    why = require_text(reason, "reason", max_length=2000)
    async with unit_of_work(ctx.loaders.db, actor_of(ctx.principal), loaders=ctx.loaders) as work:
        await rw.lock_listings(work.tx)  # a submission under way sees the entry Current or Removed, not both
        existing = await cw.cpl_entry_for_update(work.tx, number)
        if existing is None:
            raise NotFound(f"no CPL entry {number}", field="number")
        if existing.status == CplStatus.REMOVED:
            return existing
        row = await cw.remove_cpl_entry(work.tx, number, today or dt.date.today())
        # the canonical entry, plus SECAS's reason: the CPL itself gives none
        after = dataclasses.asdict(row) | {"reason": why}
        work.record(Change(AuditAction.CPL_ENTRY_REMOVE, EntityType.CPL_ENTRY, str(number), existing, after))
    return row


# --- audit log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


_AUDIT: Keyset[int | None, AuditEventRow] = Keyset("audit", decimal_key(INT64_MAX), lambda r: str(r.id))


async def audit_log(
    ctx: Context, first: int | None, after: str | None, where: AuditFilter
) -> Page[AuditEventRow]:
    """Newest first; SECAS only (schema.access)."""
    return await fetch_page(
        _AUDIT,
        first,
        after,
        ctx.limits.max_page_size,
        lambda position, limit: audit.audit_page(
            ctx.loaders.db,
            before_id=position,
            limit=limit,
            entity_type=where.entity_type,
            entity_id=where.entity_id,
            actor=where.actor,
            since=where.since,
            until=where.until,
        ),
    )
