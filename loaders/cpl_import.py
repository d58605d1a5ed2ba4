"""SQL of CPL listings (the import and listCplEntry alike): a staging table and set-based upserts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loaders import rows as found_rows
from loaders.cpl import COLUMNS, columns
from loaders.db import Db
from loaders.vocabulary import CplStatus

# A manufacturer the CPL names first is called this until SECAS renames it.
DEFAULT_MANUFACTURER_NAME = "'Manufacturer ' || manufacturer_id"


@dataclass(frozen=True, slots=True)
class StageConflict:
    """A staged row that contradicts the database: `field` names the staged column at fault."""

    row_number: int
    number: int
    field: str
    existing_number: int
    existing_value: str


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying the stage did: entries added, (before, after) of entries changed, and the rest."""

    added: list[found_rows.CplEntryRow]
    changed: list[tuple[found_rows.CplEntryRow, found_rows.CplEntryRow]]
    unchanged: int


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
        " smets_chts_version text, gbcs_version text, image_hash text not null, cpl_version text,"
        " stated_on date not null, issue text, model_name text"
        ") on commit drop"
    )
    await db.execute("truncate cpl_stage")


async def stage_rows(
    db: Db,
    rows: Sequence[found_rows.CplRow],
    *,
    stated_on: Sequence[dt.date],
    issues: Sequence[str | None],
    model_names: Sequence[str | None] | None = None,
) -> None:
    """One statement per batch: the rows travel as arrays and are unnested server-side.

    `stated_on[i]` is the date of the CPL issue that states row i and `issues[i]` its number (None
    when the row names none): an entry added is listed on and in it, an entry that turns Removed
    (or arrives Removed) is removed on and in it.
    """
    if not rows:
        return
    values: list[list[Any]] = [[getattr(row, name) for row in rows] for name in _STAGE_FIELDS]
    names = list(model_names) if model_names is not None else [None] * len(rows)
    await db.execute(
        "insert into cpl_stage select r, n, s::cpl_status, t::device_type, m, mo, hw, fw, sm, gb, h, v, d, i,"
        " mn from unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
        " $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::date[], $14::text[],"
        " $15::text[]) as u(r, n, s, t, m, mo, hw, fw, sm, gb, h, v, d, i, mn)",
        *values,
        list(stated_on),
        list(issues),
        names,
    )


async def finish_staging(db: Db) -> None:
    # temporary tables are never auto-analysed; without statistics the joins below plan as if empty
    await db.execute("analyze cpl_stage")


async def reject_conflicts(db: Db) -> list[StageConflict]:
    """Unstage rows that would re-point an entry number, list an identity twice, or change an entry
    from an older CPL issue than the one that last changed it, and return them."""
    records = await db.fetch(
        "with by_number as ("
        "  select s.row_number, s.number, e.number as existing_number,"
        "   case when e.manufacturer_id <> s.manufacturer_id then 'manufacturer_id'"
        "        when e.model_id <> s.model_id then 'model_id'"
        "        when e.hardware_version <> s.hardware_version then 'hardware_version'"
        "        when e.firmware_version <> s.firmware_version then 'firmware_version'"
        "        else 'image_hash' end as field, null::date as since"
        "  from cpl_stage s join cpl_entries e on e.number = s.number"
        "  where (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version, e.image_hash)"
        "   <> (s.manufacturer_id, s.model_id, s.hardware_version, s.firmware_version, s.image_hash)"
        "), by_identity as ("
        "  select s.row_number, s.number, e.number as existing_number, 'number' as field, null::date"
        "  from cpl_stage s join cpl_entries e"
        "   on (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version)"
        "    = (s.manufacturer_id, s.model_id, s.hardware_version, s.firmware_version)"
        "  where e.number <> s.number"
        # an older issue imported late must not undo a newer one: a Removed entry put back to Current
        # (its release `latest` again), a re-listed one removed. The entry was last stated on its
        # listing, its removal, the issue its cpl_version (the Version cell) names, or the newest
        # issue that stated it at all, changed or not (stated_on), whichever is latest.
        "), stale as ("
        "  select s.row_number, s.number, e.number, 'issue', since.on"
        "  from cpl_stage s join cpl_entries e on e.number = s.number"
        "  left join cpl_issues i on e.cpl_version in (i.title, i.number)"
        "  cross join lateral (select greatest(e.listed_on, e.removed_on, i.issued_on, e.stated_on) as on) since"
        f"  where s.stated_on < since.on and {_CHANGED}"
        "   and s.row_number not in (select row_number from by_number union all select row_number from by_identity)"
        "), bad as (select * from by_number union all select * from by_identity union all select * from stale"
        "), gone as (delete from cpl_stage s using bad where s.row_number = bad.row_number)"
        " select b.row_number, b.number, b.field, b.existing_number,"
        "  case b.field when 'manufacturer_id' then e.manufacturer_id when 'model_id' then e.model_id"
        "   when 'hardware_version' then e.hardware_version when 'firmware_version' then e.firmware_version"
        "   when 'image_hash' then e.image_hash when 'issue' then coalesce((select i.title from cpl_issues i"
        "    where i.issued_on = b.since order by i.number desc limit 1), 'stated on ' || b.since::text)"
        "   else e.number::text end as existing_value"
        " from bad b join cpl_entries e on e.number = b.existing_number"
        " order by b.row_number, b.field"
    )
    return [
        StageConflict(r["row_number"], r["number"], r["field"], r["existing_number"], r["existing_value"])
        for r in records
    ]


async def create_missing_models(
    db: Db,
) -> tuple[list[found_rows.ManufacturerRow], list[found_rows.ModelRow]]:
    """Manufacturers and device models the stage names but the FIR lacks: the rows made.

    A new model takes the device type (and name, when listCplEntry gives one) of its first row.
    """
    makers = await db.fetch(
        "insert into manufacturers (manufacturer_id, name)"
        f" select distinct manufacturer_id, {DEFAULT_MANUFACTURER_NAME} from cpl_stage"
        " on conflict do nothing returning manufacturer_id, name, website"
    )
    models = await db.fetch(
        "insert into device_models (manufacturer_id, model_id, name, device_type)"
        " select distinct on (manufacturer_id, model_id) manufacturer_id, model_id, model_name, device_type"
        " from cpl_stage order by manufacturer_id, model_id, row_number"
        " on conflict do nothing returning manufacturer_id, model_id, name, device_type::text"
    )
    return (
        sorted((found_rows.manufacturer(r) for r in makers), key=lambda m: m.manufacturer_id),
        sorted((found_rows.model(r) for r in models), key=lambda m: (m.manufacturer_id, m.model_id)),
    )


async def apply_stage(db: Db) -> Applied:
    """Update the entries the stage changes and insert the ones it adds; both in entry order."""
    existing = int(
        await db.fetchval("select count(*) from cpl_stage s join cpl_entries e on e.number = s.number")
    )
    changed = await _update_changed(db)
    added = await _insert_new(db)
    redated = await _restate(db)
    changed = sorted(changed + redated, key=lambda pair: pair[1].number)
    return Applied(added=added, changed=changed, unchanged=existing - len(changed))


# A blank SMETS/GBCS cell keeps what the FIR knows: a missing column must not erase history.
# The entry's cpl_version names the CPL issue that last changed it, so an unchanged entry keeps it.
_CHANGED = (
    "(e.status, e.device_type, e.smets_chts_version, e.gbcs_version)"
    " is distinct from (s.status, s.device_type, coalesce(s.smets_chts_version, e.smets_chts_version),"
    " coalesce(s.gbcs_version, e.gbcs_version))"
)


async def _update_changed(db: Db) -> list[tuple[found_rows.CplEntryRow, found_rows.CplEntryRow]]:
    """(before, after) of each changed entry: turning Removed stamps removed_on, re-listing clears it."""
    before = await db.fetch(
        f"select {columns('e')} from cpl_entries e join cpl_stage s on s.number = e.number"
        f" where {_CHANGED} order by e.number for update of e"
    )
    if not before:
        return []
    after = await db.fetch(
        "update cpl_entries e set status = s.status, device_type = s.device_type,"
        " smets_chts_version = coalesce(s.smets_chts_version, e.smets_chts_version),"
        " gbcs_version = coalesce(s.gbcs_version, e.gbcs_version),"
        " cpl_version = coalesce(s.cpl_version, e.cpl_version),"
        f" removed_on = case when s.status = '{CplStatus.CURRENT}' then null"
        f"  when e.status = '{CplStatus.CURRENT}' then s.stated_on else e.removed_on end,"
        f" removed_in = case when s.status = '{CplStatus.CURRENT}' then null"
        f"  when e.status = '{CplStatus.CURRENT}' then s.issue else e.removed_in end,"
        " updated_at = now()"
        f" from cpl_stage s where s.number = e.number and {_CHANGED}"
        f" returning {columns('e')}"
    )
    new = {r["number"]: found_rows.cpl_entry(r) for r in after}
    return [(found_rows.cpl_entry(r), new[r["number"]]) for r in before]


# An entry stated by an older issue than the one that first listed it was listed then (never from an
# unknown listing date: null stays null).
_EARLIER_LISTING = "s.stated_on < e.listed_on"
# A Removed entry stated Removed by an older issue than its removal was removed then, unless an issue
# stated it Current since (current_on). Without a Current statement on record, an entry that arrived
# Removed (listed on its removal) may move; any other is taken as Current until its removal.
_EARLIER_REMOVAL = (
    f"e.status = '{CplStatus.REMOVED}' and s.status = '{CplStatus.REMOVED}' and s.stated_on < e.removed_on"
    " and s.stated_on > coalesce(e.current_on,"
    "  case when e.listed_on is distinct from e.removed_on then e.removed_on end, '-infinity'::date)"
)


async def _restate(db: Db) -> list[tuple[found_rows.CplEntryRow, found_rows.CplEntryRow]]:
    """Every staged row, changed or not, records what its issue says of the entry (stated_on,
    current_on); one from an older issue that agrees with the entry moves its listing or removal
    earlier (README, CPL issues). (before, after) of the entries whose dates moved."""
    redated = f"(({_EARLIER_LISTING}) or ({_EARLIER_REMOVAL}))"
    before = await db.fetch(
        f"select {columns('e')} from cpl_entries e join cpl_stage s on s.number = e.number"
        f" where {redated} order by e.number for update of e"
    )
    current = f"s.status = '{CplStatus.CURRENT}'"
    after = await db.fetch(
        "update cpl_entries e set stated_on = greatest(e.stated_on, s.stated_on),"
        f" current_on = case when {current} then greatest(e.current_on, s.stated_on) else e.current_on end,"
        f" listed_on = case when {_EARLIER_LISTING} then s.stated_on else e.listed_on end,"
        f" listed_in = case when {_EARLIER_LISTING} then s.issue else e.listed_in end,"
        f" removed_on = case when {_EARLIER_REMOVAL} then s.stated_on else e.removed_on end,"
        f" removed_in = case when {_EARLIER_REMOVAL} then s.issue else e.removed_in end,"
        f" updated_at = case when {redated} then now() else e.updated_at end"
        " from cpl_stage s where s.number = e.number"
        "  and (e.stated_on is distinct from greatest(e.stated_on, s.stated_on)"
        f"   or ({current} and e.current_on is distinct from greatest(e.current_on, s.stated_on)) or {redated})"
        f" returning {columns('e')}"
    )
    if not before:
        return []
    new = {r["number"]: found_rows.cpl_entry(r) for r in after}
    return [(found_rows.cpl_entry(r), new[r["number"]]) for r in before]


async def _insert_new(db: Db) -> list[found_rows.CplEntryRow]:
    # listed on the stating issue's date; an entry that arrives Removed was removed on that date too
    added = await db.fetch(
        "insert into cpl_entries (number, status, manufacturer_id, model_id, hardware_version,"
        " firmware_version, device_type, smets_chts_version, gbcs_version, image_hash, cpl_version,"
        " listed_on, removed_on, listed_in, removed_in)"
        " select number, status, manufacturer_id, model_id, hardware_version, firmware_version,"
        " device_type, smets_chts_version, gbcs_version, image_hash, cpl_version, stated_on,"
        f" case when status = '{CplStatus.REMOVED}' then stated_on end, issue,"
        f" case when status = '{CplStatus.REMOVED}' then issue end"
        " from cpl_stage s where not exists (select from cpl_entries e where e.number = s.number)"
        f" order by number returning {COLUMNS}"
    )
    return sorted((found_rows.cpl_entry(r) for r in added), key=lambda e: e.number)


async def refresh_statistics(db: Db) -> None:
    """After a bulk change the planner's row estimates are stale until autovacuum catches up; a
    query planned on them right after an import can pick a scan that is 10x slower."""
    await db.execute("analyze cpl_entries, device_models, manufacturers")
