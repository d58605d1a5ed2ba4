"""SECAS administers: manufacturers, contacts (also the manufacturer's own), CPL listings, the audit log."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import audit
from loaders import catalogue_writes as cw
from loaders import cpl_import as cpl_sql
from loaders import release_writes as rw
from loaders.db import Db
from loaders.rows import AuditEventRow, CplEntryRow, ManufacturerRow
from resolvers.catalogue import DEVICE_TYPES
from resolvers.context import Context
from resolvers.errors import BadUserInput, Conflict, NotFound
from resolvers.identity import Identity, parse_identity, require_hex
from resolvers.mutations import (
    audit_change,
    clean_text,
    require_publisher,
    require_text,
    snapshot,
)
from resolvers.pagination import INT64_MAX, Page, decimal_position, make_page, page_size
from resolvers.principal import Principal

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
    async with ctx.loaders.db.transaction() as tx:
        before = await cw.manufacturer_for_update(tx, mid)
        if before is not None and (before.name, before.website) == (clean_name, clean_site):
            return before
        after = await cw.upsert_manufacturer(tx, mid, clean_name, clean_site)
        await audit_change(
            tx, ctx.principal, "manufacturer.upsert", "Manufacturer", mid, snapshot(before), snapshot(after)
        )
    ctx.loaders.clear_all()
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
    async with ctx.loaders.db.transaction() as tx:
        row = await cw.manufacturer_for_update(tx, mid)  # the lock serialises concurrent replacements
        if row is None:
            raise NotFound(f"no manufacturer {mid}", field="manufacturerId")
        before = [(c.role, c.name, c.email, c.phone) for c in await cw.live_contacts(tx, mid)]
        after = [(c.role, c.name, c.email, c.phone) for c in wanted]
        if before == after:
            return row
        await cw.replace_contacts(tx, mid, wanted)
        await audit_change(
            tx,
            ctx.principal,
            "contacts.set",
            "Manufacturer",
            mid,
            _contact_json(before),
            _contact_json(after),
        )
    ctx.loaders.clear_all()
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


def _contact_json(
    contacts: list[tuple[str, str | None, str | None, str | None]],
) -> list[dict[str, str | None]]:
    return [{"role": r, "name": n, "email": e, "phone": p} for r, n, e, p in contacts]


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
    status: str = "CURRENT"
    smets_chts_version: str | None = None
    gbcs_version: str | None = None
    cpl_version: str | None = None
    listed_on: dt.date | None = None
    model_name: str | None = None


async def list_cpl_entry(ctx: Context, raw: CplEntryInput, *, today: dt.date | None = None) -> CplEntryRow:
    """List (or re-state) one CPL entry and publish the submissions waiting for it."""
    entry = _cpl_entry(raw, today or dt.date.today())
    ident = Identity(entry.manufacturer_id, entry.model_id, entry.hardware_version, entry.firmware_version)
    async with ctx.loaders.db.transaction() as tx:
        # the lock submissions take: a submission and this listing never miss each other
        await rw.lock_model(tx, *ident.model_key)
        row = await _list_in(tx, ctx.principal, entry, raw.model_name)
        await cpl_sql.publish_matching_submissions(
            tx, numbers=[entry.number], actor=ctx.principal.actor, organisation=ctx.principal.organisation
        )
    ctx.loaders.clear_all()
    return row


def _cpl_entry(raw: CplEntryInput, today: dt.date) -> cw.NewCplEntry:
    if raw.number <= 0:
        raise BadUserInput("input.number must be positive", field="input.number")
    if raw.device_type not in DEVICE_TYPES:
        raise BadUserInput(
            f"input.deviceType must be one of {sorted(DEVICE_TYPES)}", field="input.deviceType"
        )
    if raw.status not in ("CURRENT", "REMOVED"):
        raise BadUserInput("input.status must be CURRENT or REMOVED", field="input.status")
    ident = parse_identity(
        raw.manufacturer_id, raw.model_id, raw.hardware_version, raw.firmware_version, prefix="input."
    )
    return cw.NewCplEntry(
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
        listed_on=raw.listed_on or today,
    )


async def _list_in(tx: Db, principal: Principal, e: cw.NewCplEntry, model_name: str | None) -> CplEntryRow:
    existing = await cw.cpl_entry_for_update(tx, e.number)
    if existing is not None:
        return await _relist(tx, principal, existing, e)
    other = await cw.cpl_entry_by_identity(
        tx, e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version
    )
    if other is not None:
        raise Conflict(
            f"this device identity is already listed as entry {other.number}", field="input.number"
        )
    await _create_parents(tx, principal, e, clean_text(model_name, "input.modelName", max_length=200))
    row = await cw.insert_cpl_entry(tx, e)
    await audit_change(tx, principal, "cplEntry.list", "CplEntry", e.number, None, snapshot(row))
    return row


async def _relist(tx: Db, principal: Principal, existing: CplEntryRow, e: cw.NewCplEntry) -> CplEntryRow:
    """A CPL entry's identity and hash never change; its status and versions may be re-stated."""
    pinned = (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version, e.image_hash)
    if pinned != (
        existing.manufacturer_id,
        existing.model_id,
        existing.hardware_version,
        existing.firmware_version,
        existing.image_hash,
    ):
        raise Conflict(
            f"entry {e.number} already lists another device identity or image hash", field="input.number"
        )
    stated = (e.status, e.device_type, e.smets_chts_version, e.gbcs_version, e.cpl_version)
    if stated == (
        existing.status,
        existing.device_type,
        existing.smets_chts_version,
        existing.gbcs_version,
        existing.cpl_version,
    ):
        return existing
    row = await cw.relist_cpl_entry(tx, e)
    await audit_change(
        tx, principal, "cplEntry.update", "CplEntry", e.number, snapshot(existing), snapshot(row)
    )
    return row


async def _create_parents(tx: Db, principal: Principal, e: cw.NewCplEntry, model_name: str | None) -> None:
    """The manufacturer and device model a first listing names, as the CPL import makes them."""
    made = await cw.create_manufacturer_if_missing(tx, e.manufacturer_id)
    if made is not None:
        await audit_change(
            tx, principal, "manufacturer.create", "Manufacturer", e.manufacturer_id, None, snapshot(made)
        )
    model = await cw.create_model_if_missing(tx, e.manufacturer_id, e.model_id, model_name, e.device_type)
    if model is not None:
        key = f"{e.manufacturer_id}/{e.model_id}"
        await audit_change(tx, principal, "deviceModel.create", "DeviceModel", key, None, snapshot(model))


async def remove_cpl_entry(
    ctx: Context, number: int, reason: str, *, today: dt.date | None = None
) -> CplEntryRow:
    """Mark REMOVED with today's date; never deleted. Removing a removed entry returns it unchanged."""
    why = require_text(reason, "reason", max_length=2000)
    async with ctx.loaders.db.transaction() as tx:
        existing = await cw.cpl_entry_for_update(tx, number)
        if existing is None:
            raise NotFound(f"no CPL entry {number}", field="number")
        if existing.status == "REMOVED":
            return existing
        row = await cw.remove_cpl_entry(tx, number, today or dt.date.today())
        after = snapshot(row) or {}
        await audit_change(
            tx,
            ctx.principal,
            "cplEntry.remove",
            "CplEntry",
            number,
            snapshot(existing),
            after | {"reason": why},
        )
    ctx.loaders.clear_all()
    return row


# --- audit log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


async def audit_log(
    ctx: Context, first: int | None, after: str | None, where: AuditFilter
) -> Page[AuditEventRow]:
    """Newest first; SECAS only (schema.access)."""
    limit = page_size(first, ctx.limits.max_page_size)
    position = decimal_position("audit", after, INT64_MAX)
    found = await audit.audit_page(
        ctx.loaders.db,
        before_id=position,
        limit=limit + 1,
        entity_type=where.entity_type,
        entity_id=where.entity_id,
        actor=where.actor,
        since=where.since,
        until=where.until,
    )
    return make_page("audit", found, limit, lambda r: str(r.id), after=after)
