"""SQL for the durable change feed: appended in the change's transaction, read by position."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from loaders.db import Db

CHANGES_CHANNEL = "fir_changes"
_COLUMNS = "position, occurred_at, kind::text, manufacturer_id, audience, release_id, cpl_entry_number"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One event to append; its position is given out by `append`."""

    kind: str
    manufacturer_id: str
    audience: str
    release_id: int | None = None
    cpl_entry_number: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeEventRow:
    position: int
    occurred_at: dt.datetime
    kind: str
    manufacturer_id: str
    audience: str
    release_id: int | None
    cpl_entry_number: int | None


@dataclass(frozen=True, slots=True)
class Audience:
    """What a caller may read of the feed: the SQL form of resolvers.change_feed's rule."""

    everything: bool
    fir: bool
    own: frozenset[str]


@dataclass(frozen=True, slots=True)
class FeedFilter:
    manufacturer_ids: frozenset[str] | None = None
    kinds: frozenset[str] | None = None


async def append(db: Db, entries: Sequence[FeedEntry]) -> None:
    """Takes the counter row's lock until commit (positions commit in order), then one insert, one notice."""
    if not entries:
        return
    last = await db.fetchval(
        "update change_feed_counter set last_position = last_position + $1 returning last_position",
        len(entries),
    )
    await db.execute(
        "with added as (insert into change_events"
        " (position, kind, manufacturer_id, audience, release_id, cpl_entry_number)"
        " select $1::bigint + o, k::change_kind, m, a, r, n"
        " from unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[])"
        " with ordinality as u(k, m, a, r, n, o) returning position)"
        f" select pg_notify('{CHANGES_CHANNEL}', max(position)::text) from added",
        last - len(entries),
        [e.kind for e in entries],
        [e.manufacturer_id for e in entries],
        [e.audience for e in entries],
        [e.release_id for e in entries],
        [e.cpl_entry_number for e in entries],
    )


@dataclass(frozen=True, slots=True)
class Pruned:
    deleted: int  # events deleted now
    through: int  # every position up to this one is gone (0: none ever was)


async def prune(tx: Db, before: dt.datetime) -> Pruned:
    """Deletes the oldest events: each one that occurred before `before`, up to the first that did not
    (so what is left is always every position after `through`). In a transaction: the counter row's
    lock waits for a writer that holds positions still uncommitted, and holds the next one off."""
    counter = await tx.fetchrow("select last_position, pruned_through from change_feed_counter for update")
    assert counter is not None  # migration 0007 inserts the one row
    gone: int = counter["pruned_through"]
    through: int = await tx.fetchval(
        "select coalesce((select min(position) - 1 from change_events where occurred_at >= $1), $2)",
        before,
        counter["last_position"],
    )
    if through <= gone:
        return Pruned(0, gone)
    deleted = await tx.fetchval(
        "with gone as (delete from change_events where position <= $1 returning 1) select count(*) from gone",
        through,
    )
    await tx.execute("update change_feed_counter set pruned_through = $1", through)
    return Pruned(int(deleted), int(through))


async def pruned_through(db: Db) -> int:
    """The last position pruned: a cursor before it would skip events that are gone."""
    found: int = await db.fetchval("select pruned_through from change_feed_counter")
    return found


# Oldest first after $1, only what the audience ($2-$4) may read and the filter ($5, $6) asks for.
_PAGE = (
    f"select {_COLUMNS} from change_events"
    " where position > $1"
    " and ($2 or manufacturer_id = any($3::text[]) or audience = 'public' or ($4 and audience = 'fir'))"
    " and ($5::text[] is null or manufacturer_id = any($5::text[]))"
    " and ($6::text[] is null or kind::text = any($6::text[]))"
    " order by position limit $7"
)


def _page_arguments(after: int, limit: int, who: Audience, where: FeedFilter) -> tuple[object, ...]:
    return (
        after,
        who.everything,
        sorted(who.own),
        who.fir,
        None if where.manufacturer_ids is None else sorted(where.manufacturer_ids),
        None if where.kinds is None else sorted(where.kinds),
        limit,
    )


async def page(db: Db, *, after: int, limit: int, who: Audience, where: FeedFilter) -> list[ChangeEventRow]:
    """Oldest first from `after`, only what `who` may read and `where` asks for."""
    return [_row(r) for r in await db.fetch(_PAGE, *_page_arguments(after, limit, who, where))]


async def page_and_mark(
    db: Db, *, after: int, limit: int, who: Audience, where: FeedFilter
) -> tuple[list[ChangeEventRow], int]:
    """The page, and the feed's last position in the same snapshot: every event up to it has
    committed (positions are taken under the counter row's lock, held to commit), so a reader given
    a short page has read everything up to the mark, events it may not see or did not ask for
    included, and may read on from there rather than from its last event."""
    found = await db.fetch(
        f"select c.last_position, p.* from change_feed_counter c left join lateral ({_PAGE}) p on true",
        *_page_arguments(after, limit, who, where),
    )
    return [_row(r) for r in found if r["position"] is not None], int(found[0]["last_position"])


def _row(r: asyncpg.Record) -> ChangeEventRow:
    return ChangeEventRow(
        r["position"],
        r["occurred_at"],
        r["kind"],
        r["manufacturer_id"],
        r["audience"],
        r["release_id"],
        r["cpl_entry_number"],
    )
