"""SQL that writes the catalogue SECAS administers: manufacturers, contacts, device models, CPL entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import rows
from loaders.cpl import COLUMNS as CPL_COLUMNS
from loaders.db import Db


@dataclass(frozen=True, slots=True)
class NewContact:
    role: str
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class NewCplEntry:
    number: int
    status: str
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    device_type: str
    smets_chts_version: str | None
    gbcs_version: str | None
    image_hash: str
    cpl_version: str | None
    listed_on: dt.date


async def manufacturer_for_update(db: Db, manufacturer_id: str) -> rows.ManufacturerRow | None:
    found = await db.fetchrow(
        "select manufacturer_id, name, website from manufacturers where manufacturer_id = $1 for update",
        manufacturer_id,
    )
    return rows.manufacturer(found) if found else None


async def upsert_manufacturer(
    db: Db, manufacturer_id: str, name: str, website: str | None
) -> rows.ManufacturerRow:
    found = await db.fetchrow(
        "insert into manufacturers (manufacturer_id, name, website) values ($1, $2, $3)"
        " on conflict (manufacturer_id) do update set name = excluded.name, website = excluded.website,"
        " updated_at = now() returning manufacturer_id, name, website",
        manufacturer_id,
        name,
        website,
    )
    assert found is not None
    return rows.manufacturer(found)


async def live_contacts(db: Db, manufacturer_id: str) -> list[rows.ContactRow]:
    return [
        rows.contact(r)
        for r in await db.fetch(
            "select manufacturer_id, role::text, name, email, phone from contacts"
            " where manufacturer_id = $1 and retired_at is null order by position, id",
            manufacturer_id,
        )
    ]


async def replace_contacts(db: Db, manufacturer_id: str, contacts: Sequence[NewContact]) -> None:
    """Retire the live set and insert the new one in order; history stays in the table."""
    await db.execute(
        "update contacts set retired_at = now() where manufacturer_id = $1 and retired_at is null",
        manufacturer_id,
    )
    if contacts:
        await db.execute(
            "insert into contacts (manufacturer_id, role, name, email, phone, position)"
            " select $1, r::contact_role, n, e, p, o - 1"
            " from unnest($2::text[], $3::text[], $4::text[], $5::text[])"
            " with ordinality as u(r, n, e, p, o)",
            manufacturer_id,
            [c.role for c in contacts],
            [c.name for c in contacts],
            [c.email for c in contacts],
            [c.phone for c in contacts],
        )


async def create_manufacturer_if_missing(db: Db, manufacturer_id: str) -> rows.ManufacturerRow | None:
    """A manufacturer the CPL names first: named after its identifier until SECAS renames it."""
    found = await db.fetchrow(
        "insert into manufacturers (manufacturer_id, name) values ($1::text, 'Manufacturer ' || $1::text)"
        " on conflict do nothing returning manufacturer_id, name, website",
        manufacturer_id,
    )
    return rows.manufacturer(found) if found else None


async def create_model_if_missing(
    db: Db, manufacturer_id: str, model_id: str, name: str | None, device_type: str
) -> rows.ModelRow | None:
    found = await db.fetchrow(
        "insert into device_models (manufacturer_id, model_id, name, device_type)"
        " values ($1, $2, $3, $4::device_type) on conflict do nothing"
        " returning manufacturer_id, model_id, name, device_type::text",
        manufacturer_id,
        model_id,
        name,
        device_type,
    )
    return rows.model(found) if found else None


async def cpl_entry_for_update(db: Db, number: int) -> rows.CplEntryRow | None:
    found = await db.fetchrow(f"select {CPL_COLUMNS} from cpl_entries where number = $1 for update", number)
    return rows.cpl_entry(found) if found else None


async def cpl_entry_by_identity(
    db: Db, manufacturer_id: str, model_id: str, hardware_version: str, firmware_version: str
) -> rows.CplEntryRow | None:
    found = await db.fetchrow(
        f"select {CPL_COLUMNS} from cpl_entries"
        " where (manufacturer_id, model_id, hardware_version, firmware_version) = ($1, $2, $3, $4)",
        manufacturer_id,
        model_id,
        hardware_version,
        firmware_version,
    )
    return rows.cpl_entry(found) if found else None


async def insert_cpl_entry(db: Db, e: NewCplEntry) -> rows.CplEntryRow:
    found = await db.fetchrow(
        "insert into cpl_entries (number, status, manufacturer_id, model_id, hardware_version,"
        " firmware_version, device_type, smets_chts_version, gbcs_version, image_hash, cpl_version,"
        " listed_on, removed_on)"
        " values ($1, $2::cpl_status, $3, $4, $5, $6, $7::device_type, $8, $9, $10, $11, $12::date,"
        " case when $2::cpl_status = 'REMOVED' then $12::date end)"
        f" returning {CPL_COLUMNS}",
        e.number,
        e.status,
        e.manufacturer_id,
        e.model_id,
        e.hardware_version,
        e.firmware_version,
        e.device_type,
        e.smets_chts_version,
        e.gbcs_version,
        e.image_hash,
        e.cpl_version,
        e.listed_on,
    )
    assert found is not None
    return rows.cpl_entry(found)


async def relist_cpl_entry(db: Db, e: NewCplEntry) -> rows.CplEntryRow:
    """Re-state an existing entry's listing facts; identity and hash never change (checked by the caller)."""
    found = await db.fetchrow(
        "update cpl_entries set status = $2::cpl_status, device_type = $3::device_type,"
        " smets_chts_version = $4, gbcs_version = $5, cpl_version = $6,"
        " removed_on = case when $2::cpl_status = 'CURRENT' then null else coalesce(removed_on, $7::date) end,"
        f" updated_at = now() where number = $1 returning {CPL_COLUMNS}",
        e.number,
        e.status,
        e.device_type,
        e.smets_chts_version,
        e.gbcs_version,
        e.cpl_version,
        e.listed_on,
    )
    assert found is not None
    return rows.cpl_entry(found)


async def remove_cpl_entry(db: Db, number: int, today: dt.date) -> rows.CplEntryRow:
    found = await db.fetchrow(
        "update cpl_entries set status = 'REMOVED', removed_on = $2, updated_at = now()"
        f" where number = $1 returning {CPL_COLUMNS}",
        number,
        today,
    )
    assert found is not None
    return rows.cpl_entry(found)
