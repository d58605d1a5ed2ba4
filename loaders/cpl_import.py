"""SQL of the CPL import: a staging table, set-based upserts, publication of waiting releases, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from loaders.db import Db
from loaders.release_writes import notify_published

# A row's columns as the audit log records them; the timestamps are bookkeeping, not content.
_ROW_JSON = "to_jsonb({0}) - 'created_at' - 'updated_at'"
_RELEASE_JSON = "to_jsonb({0}) - 'updated_at'"


class StageRow(Protocol):
    """What staging needs of a normalised CPL row (resolvers' CplRow has exactly this shape)."""

    @property
    def row_number(self) -> int: ...
    @property
    def number(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def device_type(self) -> str: ...
    @property
    def manufacturer_id(self) -> str: ...
    @property
    def model_id(self) -> str: ...
    @property
    def hardware_version(self) -> str: ...
    @property
    def firmware_version(self) -> str: ...
    @property
    def smets_chts_version(self) -> str | None: ...
    @property
    def gbcs_version(self) -> str | None: ...
    @property
    def image_hash(self) -> str: ...
    @property
    def cpl_version(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class StageConflict:
    """A staged row that contradicts the database: `field` names the staged column at fault."""

    row_number: int
    number: int
    field: str
    existing_number: int
    existing_value: str


@dataclass(frozen=True, slots=True)
class ApplyCounts:
    added: int
    updated: int
    removed: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class PublishedRelease:
    id: int
    cpl_entry_number: int
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    published_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Actor:
    """Who the audit rows name."""

    actor: str
    organisation: str | None


_STAGE_FIELDS = (
    "row_number",
    "number",
    "status",
    "device_type",
    "manufacturer_id",
    "model_id",
    "hardware_version",
    "firmware_version",
    "smets_chts_version",
    "gbcs_version",
    "image_hash",
    "cpl_version",
)


async def create_stage(db: Db) -> None:
    """A temporary table for this transaction's rows; `db` must be bound to a transaction."""
    await db.execute(
        "create temp table if not exists cpl_stage ("
        " row_number int primary key, number int not null unique,"
        " status cpl_status not null, device_type device_type not null,"
        " manufacturer_id text not null, model_id text not null,"
        " hardware_version text not null, firmware_version text not null,"
        " smets_chts_version text, gbcs_version text, image_hash text not null, cpl_version text"
        ") on commit drop"
    )
    await db.execute("truncate cpl_stage")


async def stage_rows(db: Db, rows: Sequence[StageRow]) -> None:
    """One statement per batch: the rows travel as 12 arrays and are unnested server-side."""
    if not rows:
        return
    columns: list[list[Any]] = [[getattr(row, name) for row in rows] for name in _STAGE_FIELDS]
    await db.execute(
        "insert into cpl_stage select r, n, s::cpl_status, t::device_type, m, mo, hw, fw, sm, gb, h, v"
        " from unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
        " $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])"
        " as u(r, n, s, t, m, mo, hw, fw, sm, gb, h, v)",
        *columns,
    )


async def finish_staging(db: Db) -> None:
    # temporary tables are never auto-analysed; without statistics the joins below plan as if empty
    await db.execute("analyze cpl_stage")


async def reject_conflicts(db: Db) -> list[StageConflict]:
    """Unstage rows that would re-point an entry number or list an identity twice, and return them."""
    records = await db.fetch(
        "with by_number as ("
        "  select s.row_number, s.number, e.number as existing_number,"
        "   case when e.manufacturer_id <> s.manufacturer_id then 'manufacturer_id'"
        "        when e.model_id <> s.model_id then 'model_id'"
        "        when e.hardware_version <> s.hardware_version then 'hardware_version'"
        "        when e.firmware_version <> s.firmware_version then 'firmware_version'"
        "        else 'image_hash' end as field"
        "  from cpl_stage s join cpl_entries e on e.number = s.number"
        "  where (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version, e.image_hash)"
        "   <> (s.manufacturer_id, s.model_id, s.hardware_version, s.firmware_version, s.image_hash)"
        "), by_identity as ("
        "  select s.row_number, s.number, e.number as existing_number, 'number' as field"
        "  from cpl_stage s join cpl_entries e"
        "   on (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version)"
        "    = (s.manufacturer_id, s.model_id, s.hardware_version, s.firmware_version)"
        "  where e.number <> s.number"
        "), bad as (select * from by_number union all select * from by_identity"
        "), gone as (delete from cpl_stage s using bad where s.row_number = bad.row_number)"
        " select b.row_number, b.number, b.field, b.existing_number,"
        "  case b.field when 'manufacturer_id' then e.manufacturer_id when 'model_id' then e.model_id"
        "   when 'hardware_version' then e.hardware_version when 'firmware_version' then e.firmware_version"
        "   when 'image_hash' then e.image_hash else e.number::text end as existing_value"
        " from bad b join cpl_entries e on e.number = b.existing_number"
        " order by b.row_number, b.field"
    )
    return [
        StageConflict(r["row_number"], r["number"], r["field"], r["existing_number"], r["existing_value"])
        for r in records
    ]


async def create_missing_models(db: Db, who: Actor) -> tuple[int, int]:
    """Manufacturers and device models the CPL names but the FIR lacks: (manufacturers, models) made.

    A new manufacturer is named after its identifier until SECAS renames it; a new model takes
    the device type of its first row.
    """
    manufacturers = await db.fetchval(
        "with made as ("
        "  insert into manufacturers (manufacturer_id, name)"
        "  select distinct manufacturer_id, 'Manufacturer ' || manufacturer_id from cpl_stage"
        "  on conflict do nothing returning *"
        "), audited as ("
        "  insert into audit_events (actor, organisation, action, entity_type, entity_id, after)"
        "  select $1, $2, 'manufacturer.create', 'Manufacturer', manufacturer_id,"
        f"  {_ROW_JSON.format('made')} from made order by manufacturer_id"
        ") select count(*) from made",
        who.actor,
        who.organisation,
    )
    models = await db.fetchval(
        "with made as ("
        "  insert into device_models (manufacturer_id, model_id, device_type)"
        "  select distinct on (manufacturer_id, model_id) manufacturer_id, model_id, device_type"
        "  from cpl_stage order by manufacturer_id, model_id, row_number"
        "  on conflict do nothing returning *"
        "), audited as ("
        "  insert into audit_events (actor, organisation, action, entity_type, entity_id, after)"
        "  select $1, $2, 'deviceModel.create', 'DeviceModel', manufacturer_id || '/' || model_id,"
        f"  {_ROW_JSON.format('made')} from made order by manufacturer_id, model_id"
        ") select count(*) from made",
        who.actor,
        who.organisation,
    )
    return int(manufacturers), int(models)


async def apply_stage(db: Db, *, today: dt.date, who: Actor) -> ApplyCounts:
    """Update the entries the stage changes, insert the ones it adds; audit each."""
    existing = int(
        await db.fetchval("select count(*) from cpl_stage s join cpl_entries e on e.number = s.number")
    )
    updated, removed = await _update_changed(db, today, who)
    added = await _insert_new(db, today, who)
    return ApplyCounts(added=added, updated=updated, removed=removed, unchanged=existing - updated - removed)


# A blank SMETS/GBCS cell keeps what the FIR knows: a missing column must not erase history.
# The entry's cpl_version names the CPL issue that last changed it, so an unchanged entry keeps it.
_CHANGED = (
    "(e.status, e.device_type, e.smets_chts_version, e.gbcs_version)"
    " is distinct from (s.status, s.device_type, coalesce(s.smets_chts_version, e.smets_chts_version),"
    " coalesce(s.gbcs_version, e.gbcs_version))"
)


async def _update_changed(db: Db, today: dt.date, who: Actor) -> tuple[int, int]:
    """(updated, newly removed): CURRENT -> REMOVED stamps removed_on, re-listing clears it."""
    record = await db.fetchrow(
        "with old as ("
        "  select e.* from cpl_entries e join cpl_stage s on s.number = e.number"
        f"  where {_CHANGED} for update of e"
        "), new as ("
        "  update cpl_entries e set status = s.status, device_type = s.device_type,"
        "   smets_chts_version = coalesce(s.smets_chts_version, e.smets_chts_version),"
        "   gbcs_version = coalesce(s.gbcs_version, e.gbcs_version),"
        "   cpl_version = coalesce(s.cpl_version, e.cpl_version),"
        "   removed_on = case when s.status = 'CURRENT' then null"
        "    when e.status = 'CURRENT' then $1::date else e.removed_on end,"
        "   updated_at = now()"
        "  from cpl_stage s where s.number = e.number and e.number in (select number from old)"
        "  returning e.*"
        "), changes as ("
        "  select o.number, o.status = 'CURRENT' and n.status = 'REMOVED' as removal,"
        f"   {_ROW_JSON.format('o')} as before, {_ROW_JSON.format('n')} as after"
        "  from old o join new n on n.number = o.number"
        "), audited as ("
        "  insert into audit_events (actor, organisation, action, entity_type, entity_id, before, after)"
        "  select $2, $3, case when removal then 'cplEntry.remove' else 'cplEntry.update' end,"
        "   'CplEntry', number::text, before, after from changes order by number"
        ") select count(*) filter (where not removal) as updated, count(*) filter (where removal) as removed"
        " from changes",
        today,
        who.actor,
        who.organisation,
    )
    assert record is not None
    return int(record["updated"]), int(record["removed"])


async def _insert_new(db: Db, today: dt.date, who: Actor) -> int:
    # an entry first seen as Removed was removed on a date this CPL does not give: removed_on stays null
    added = await db.fetchval(
        "with new as ("
        "  insert into cpl_entries (number, status, manufacturer_id, model_id, hardware_version,"
        "   firmware_version, device_type, smets_chts_version, gbcs_version, image_hash, cpl_version,"
        "   listed_on)"
        "  select number, status, manufacturer_id, model_id, hardware_version, firmware_version,"
        "   device_type, smets_chts_version, gbcs_version, image_hash, cpl_version, $1::date"
        "  from cpl_stage s where not exists (select from cpl_entries e where e.number = s.number)"
        "  order by number returning *"
        "), audited as ("
        "  insert into audit_events (actor, organisation, action, entity_type, entity_id, after)"
        "  select $2, $3, 'cplEntry.list', 'CplEntry', number::text,"
        f"  {_ROW_JSON.format('new')} from new order by number"
        ") select count(*) from new",
        today,
        who.actor,
        who.organisation,
    )
    return int(added)


async def publish_matching_submissions(
    db: Db, *, numbers: list[int] | None, actor: str, organisation: str | None = None
) -> list[PublishedRelease]:
    """Publish SUBMITTED releases whose identity and image hash match a Current CPL entry.

    `numbers` limits the entries considered (None: every Current entry). Each publication is
    audited in the same statement and announced to subscribers on commit, so run it inside the
    caller's transaction.
    """
    records = await db.fetch(
        "with old as ("
        "  select r.*, e.number as entry_number from firmware_releases r join cpl_entries e"
        "   on (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version, e.image_hash)"
        "    = (r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash)"
        "  where r.status = 'SUBMITTED' and e.status = 'CURRENT'"
        "   and ($1::int[] is null or e.number = any($1::int[]))"
        "  for update of r"
        "), new as ("
        "  update firmware_releases r set status = 'PUBLISHED', cpl_entry_number = o.entry_number,"
        "   published_at = now(), published_by = $2, updated_at = now()"
        "  from old o where r.id = o.id returning r.*"
        "), audited as ("
        "  insert into audit_events (actor, organisation, action, entity_type, entity_id, before, after)"
        "  select $2, $3, 'firmwareRelease.publish', 'FirmwareRelease', n.id::text,"
        f"   {_RELEASE_JSON.format('o')} - 'entry_number', {_RELEASE_JSON.format('n')}"
        "  from new n join old o on o.id = n.id order by n.id"
        ") select id, cpl_entry_number, manufacturer_id, model_id, hardware_version, firmware_version,"
        " image_hash, published_at from new order by id",
        numbers,
        actor,
        organisation,
    )
    await notify_published(db, [r["id"] for r in records])
    return [
        PublishedRelease(
            id=r["id"],
            cpl_entry_number=r["cpl_entry_number"],
            manufacturer_id=r["manufacturer_id"],
            model_id=r["model_id"],
            hardware_version=r["hardware_version"],
            firmware_version=r["firmware_version"],
            image_hash=r["image_hash"],
            published_at=r["published_at"],
        )
        for r in records
    ]


async def refresh_statistics(db: Db) -> None:
    """After a bulk change the planner's row estimates are stale until autovacuum catches up; a
    query planned on them right after an import can pick a scan that is 10x slower."""
    await db.execute("analyze cpl_entries, device_models, manufacturers")


async def record_import(db: Db, *, cpl_version: str, counts: dict[str, object], who: Actor) -> None:
    await db.execute(
        "insert into audit_events (actor, organisation, action, entity_type, entity_id, after)"
        " values ($1, $2, 'cpl.import', 'CplDocument', $3, $4::jsonb)",
        who.actor,
        who.organisation,
        cpl_version,
        counts,
    )
