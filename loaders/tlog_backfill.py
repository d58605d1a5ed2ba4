"""SQL of the log's backfill: published facts with no leaf yet (loaded before the log, or by COPY), in chunks."""

from __future__ import annotations

from collections import defaultdict

from loaders import cpl, releases, rows
from loaders.db import Db
from loaders.vocabulary import PUBLIC_RELEASE_SQL, EntityType

# A release is a public fact once published, and stays one when withdrawn (resolvers/log_leaves.py).
_PUBLIC_RELEASE = PUBLIC_RELEASE_SQL


def _no_leaf(entity_type: EntityType, key: str) -> str:
    return (
        "not exists (select from tlog_leaves l"
        f" where l.entity_type = '{entity_type}' and l.entity_id = {key})"
    )


_ENTRIES_WHERE = _no_leaf(EntityType.CPL_ENTRY, "e.number::text")
_RELEASES_WHERE = f"{_PUBLIC_RELEASE} and {_no_leaf(EntityType.FIRMWARE_RELEASE, 'r.id::text')}"
_CONTACTS_WHERE = f"c.retired_at is null and {_no_leaf(EntityType.MANUFACTURER, 'c.manufacturer_id')}"


async def unlogged_count(db: Db) -> int:
    """How many leaves a backfill would append now: entries, public releases, contact sets."""
    return int(
        await db.fetchval(
            f"select (select count(*) from cpl_entries e where {_ENTRIES_WHERE})"
            f" + (select count(*) from firmware_releases r where {_RELEASES_WHERE})"
            f" + (select count(distinct c.manufacturer_id) from contacts c where {_CONTACTS_WHERE})"
        )
    )


async def unlogged_cpl_entries(db: Db, *, after: int, limit: int) -> list[rows.CplEntryRow]:
    """Entries (Current or Removed) numbered above `after` that no leaf states, by number."""
    found = await db.fetch(
        f"select {cpl.columns('e')} from cpl_entries e where e.number > $1 and {_ENTRIES_WHERE}"
        " order by e.number limit $2",
        after,
        limit,
    )
    return [rows.cpl_entry(r) for r in found]


async def unlogged_releases(db: Db, *, after: int, limit: int) -> list[rows.ReleaseRow]:
    """Published (or published, then withdrawn) releases above id `after` that no leaf states, by id."""
    found = await db.fetch(
        f"{releases.SELECT} where r.id > $1 and {_RELEASES_WHERE} order by r.id limit $2", after, limit
    )
    return [rows.release(r) for r in found]


async def unlogged_contacts(db: Db) -> dict[str, list[rows.ContactRow]]:
    """Each manufacturer's live contacts, in order, where no leaf states them (a few per manufacturer)."""
    found = await db.fetch(
        "select c.manufacturer_id, c.role::text as role, c.name, c.email, c.phone from contacts c"
        f" where {_CONTACTS_WHERE} order by c.manufacturer_id, c.position, c.id"
    )
    sets: dict[str, list[rows.ContactRow]] = defaultdict(list)
    for r in found:
        sets[r["manufacturer_id"]].append(rows.contact(r))
    return dict(sets)
