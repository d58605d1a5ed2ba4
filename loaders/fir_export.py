"""SQL of the FIR spreadsheet export: one consistent snapshot, read in keyset-paged chunks."""

from __future__ import annotations

import datetime as dt

from loaders.db import Db
from loaders.frozen import frozen
from loaders.rows import CplFacts
from loaders.vocabulary import ContactRole, ReleaseStatus


@frozen
class FirExportRow(CplFacts):
    """One CPL entry with its published FIR release (if any) and its manufacturer's firmware contact."""

    release_date: dt.date | None
    release_notes: str | None
    upgradable_from: tuple[int, ...]
    urgency: str | None
    advisories: tuple[str, ...]
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    release_id: int | None  # the published release the row shows (identity and image hash agree)
    latest_release_id: int | None  # the identity's published release, else its newest (any hash)


async def begin_snapshot(db: Db) -> int:
    """Pin one snapshot for the chunked reads that follow and count the entries in it.

    `db` must be bound to a fresh transaction: the isolation level can only be set before its
    first statement.
    """
    await db.execute("set transaction isolation level repeatable read, read only")
    return int(await db.fetchval("select count(*) from cpl_entries"))


# Only PUBLISHED releases: the release of an entry is the live one with the entry's identity and
# image hash. Upgradable-from versions become the CPL entries of the same model and hardware
# version (Current or Removed) that carry them; a version without an entry has no number to print.
_CHUNK_SQL = f"""
select e.number, e.status::text, e.device_type::text, e.manufacturer_id, e.model_id, e.hardware_version,
  e.firmware_version, e.smets_chts_version, e.gbcs_version, e.image_hash, e.cpl_version,
  r.release_date, r.release_notes, r.urgency::text, r.advisories,
  coalesce((
    -- walk the release's few edges, then look each up by identity, never scan the model's entries;
    -- (offset 0 stops the planner flattening both and, on stale statistics, reversing the order)
    select array_agg(f.number order by f.number)
    from (select from_firmware_version from release_upgradable_from where release_id = r.id offset 0) u
    cross join lateral (
      select number from cpl_entries
      where (manufacturer_id, model_id, hardware_version, firmware_version)
        = (e.manufacturer_id, e.model_id, e.hardware_version, u.from_firmware_version)
      offset 0
    ) f
  ), '{{}}') as upgradable_from,
  c.name as contact_name, c.email as contact_email, c.phone as contact_phone,
  r.id as release_id, p.id as latest_release_id
from cpl_entries e
left join firmware_releases r
  on (r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash)
   = (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version, e.image_hash)
  and r.status = '{ReleaseStatus.PUBLISHED}'
-- the identity's published release, else its newest, whatever its image hash: the row carries its
-- newest leaf, so a published release hidden from the row by an edited hash or status still shows in
-- `fir verify`
left join lateral (
  select id from firmware_releases
  where (manufacturer_id, model_id, hardware_version, firmware_version)
    = (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version)
  order by status = '{ReleaseStatus.PUBLISHED}' desc, id desc limit 1
) p on true
left join lateral (
  select name, email, phone from contacts
  where manufacturer_id = e.manufacturer_id and role = '{ContactRole.FIRMWARE}' and retired_at is null
  order by position, id limit 1
) c on true
where e.number > $1
order by e.number
limit $2
"""


async def export_chunk(db: Db, *, after: int, limit: int) -> list[FirExportRow]:
    """The next `limit` entries numbered above `after`; the select list names FirExportRow's fields."""
    return [
        FirExportRow(
            **{
                **r,
                "upgradable_from": tuple(r["upgradable_from"]),
                "advisories": tuple(r["advisories"] or ()),
            }
        )
        for r in await db.fetch(_CHUNK_SQL, after, limit)
    ]
