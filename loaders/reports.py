"""SQL for SECAS's reports: CPL entries with no FIR record, submissions that cannot publish, missing contacts."""

from __future__ import annotations

from dataclasses import dataclass

from loaders import cpl, rows
from loaders.db import Db
from loaders.releases import SELECT
from loaders.vocabulary import BlockedReason, ContactRole, CplStatus, ReleaseStatus


@dataclass(frozen=True, slots=True)
class BlockedRow:
    """A SUBMITTED release and why it cannot publish; the entry is the one its identity matches, if any."""

    release: rows.ReleaseRow
    reason: str
    entry_number: int | None


async def unrecorded_entries(db: Db) -> list[rows.CplEntryRow]:
    """Current entries no published release records, by manufacturer then entry number."""
    found = await db.fetch(
        f"select {cpl.columns('c')} from cpl_entries c where c.status = $1::cpl_status"
        " and not exists (select from firmware_releases r"
        "   where r.cpl_entry_number = c.number and r.status = $2::release_status)"
        " order by c.manufacturer_id, c.number",
        CplStatus.CURRENT,
        ReleaseStatus.PUBLISHED,
    )
    return [rows.cpl_entry(r) for r in found]


async def blocked_submissions(db: Db) -> list[BlockedRow]:
    """Every SUBMITTED release, with the entry its identity matches (a Current one first), and why not."""
    found = await db.fetch(
        f"with submitted as ({SELECT} where r.status = $2::release_status),"
        " matched as (select s.*, e.number as entry_number,"
        "   case when e.number is null then $3 when e.status <> $1::cpl_status then $4"
        "     when e.image_hash <> s.image_hash then $5 end as reason"
        "   from submitted s left join lateral (select x.number, x.status, x.image_hash from cpl_entries x"
        "     where (x.manufacturer_id, x.model_id, x.hardware_version, x.firmware_version)"
        "       = (s.manufacturer_id, s.model_id, s.hardware_version, s.firmware_version)"
        "     order by x.status = $1::cpl_status desc, x.number desc limit 1) e on true)"
        " select * from matched where reason is not null order by manufacturer_id, id",
        CplStatus.CURRENT,
        ReleaseStatus.SUBMITTED,
        BlockedReason.NO_MATCHING_ENTRY,
        BlockedReason.ENTRY_REMOVED,
        BlockedReason.HASH_DIFFERS,
    )
    return [BlockedRow(rows.release(r), r["reason"], r["entry_number"]) for r in found]


async def manufacturers_without_firmware_contact(db: Db) -> list[rows.ManufacturerRow]:
    found = await db.fetch(
        "select manufacturer_id, name, website from manufacturers m where not exists (select from contacts c"
        "   where c.manufacturer_id = m.manufacturer_id and c.role = $1::contact_role and c.retired_at is null)"
        " order by manufacturer_id",
        ContactRole.FIRMWARE,
    )
    return [rows.manufacturer(r) for r in found]
