"""SQL that writes the catalogue SECAS administers: manufacturers, contacts, device models, CPL entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import rows
from loaders.cpl import COLUMNS as CPL_COLUMNS
from loaders.db import Db
from loaders.vocabulary import CplStatus


@dataclass(frozen=True, slots=True)
class NewContact:
    role: str
    name: str | None
    email: str | None
    phone: str | None


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


async def remove_cpl_entry(db: Db, number: int, today: dt.date) -> rows.CplEntryRow:
    found = await db.fetchrow(
        f"update cpl_entries set status = '{CplStatus.REMOVED}', removed_on = $2, updated_at = now()"
        f" where number = $1 returning {CPL_COLUMNS}",
        number,
        today,
    )
    assert found is not None
    return rows.cpl_entry(found)
