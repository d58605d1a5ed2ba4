"""SQL for the transparency log: serialised appends, complete-subtree reads, signed checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from loaders.db import Db
from loaders.frozen import frozen
from loaders.vocabulary import ReleaseStatus

# Any constant will do: held for the rest of the appending transaction, so appends have one order.
_APPEND_LOCK = 0x0F1A_0017
# Held by the one replica signing checkpoints at a time, so replicas never fork the log.
_SIGN_LOCK = 0x0F1A_0018

Node = tuple[int, int]


@dataclass(frozen=True, slots=True)
class NewLeaf:
    leaf: bytes
    entity_type: str
    entity_id: str


@frozen
class LeafRow:
    idx: int
    leaf: bytes
    entity_type: str
    entity_id: str


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    tree_size: int
    root_hash: bytes
    note: str


async def lock_appends(tx: Db) -> None:
    """Serialise appends: the lock is released at commit, after this transaction's leaves land."""
    await tx.execute("select pg_advisory_xact_lock($1)", _APPEND_LOCK)


# How long signing waits for the data version's row, which every open write transaction holds (its
# trigger bumps it, migration 0014): a long CPL import would otherwise hold the signer, its lock and
# a connection until it commits. Past it, the signer tries again at its next turn.
SIGN_LOCK_TIMEOUT = "1s"


async def try_lock_signing(tx: Db) -> bool:
    await tx.execute(f"set local lock_timeout = '{SIGN_LOCK_TIMEOUT}'")
    return bool(await tx.fetchval("select pg_try_advisory_xact_lock($1)", _SIGN_LOCK))


async def size_and_frontier(db: Db) -> tuple[int, dict[Node, bytes]]:
    """The tree size and its right-edge complete subtrees (one per set bit of the size), in one read."""
    rows = await db.fetch(
        "with s as (select coalesce(max(idx) + 1, 0) as n from tlog_leaves)"
        " select s.n, t.level, t.hash from s"
        " left join lateral (select l.level, l.hash from generate_series(0, 62) g(lv)"
        "   join tlog_nodes l on l.level = g.lv and l.idx = (s.n >> g.lv) - 1"
        "   where (s.n >> g.lv) & 1 = 1) t on true"
    )
    size = int(rows[0]["n"])
    return size, {
        (r["level"], (size >> r["level"]) - 1): bytes(r["hash"]) for r in rows if r["level"] is not None
    }


async def append(tx: Db, start: int, leaves: Sequence[NewLeaf], nodes: Mapping[Node, bytes]) -> None:
    """The leaves from index `start` and the nodes they complete, in one statement."""
    levels, indexes, hashes = _columns(nodes.items())
    await tx.execute(
        "with l as (insert into tlog_leaves (idx, leaf, entity_type, entity_id)"
        "  select $1 + o - 1, f, t, i from unnest($2::bytea[], $3::text[], $4::text[])"
        "  with ordinality as u(f, t, i, o))"
        " insert into tlog_nodes (level, idx, hash) select * from unnest($5::smallint[], $6::bigint[], $7::bytea[])",
        start,
        [x.leaf for x in leaves],
        [x.entity_type for x in leaves],
        [x.entity_id for x in leaves],
        levels,
        indexes,
        hashes,
    )


def _columns(items: Iterable[tuple[Node, bytes]]) -> tuple[list[int], list[int], list[bytes]]:
    pairs = list(items)
    return [n[0] for n, _ in pairs], [n[1] for n, _ in pairs], [h for _, h in pairs]


async def nodes(db: Db, wanted: Iterable[Node]) -> dict[Node, bytes]:
    levels, indexes, _ = _columns((n, b"") for n in wanted)
    rows = await db.fetch(
        "select t.level, t.idx, t.hash from unnest($1::smallint[], $2::bigint[]) as w(level, idx)"
        " join tlog_nodes t using (level, idx)",
        levels,
        indexes,
    )
    return {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows}


async def latest_leaf_indexes(db: Db, entity_type: str, entity_ids: Sequence[str]) -> list[int | None]:
    """The newest leaf about each entity (what it is now), in key order."""
    rows = await db.fetch(
        "select entity_id, max(idx) as idx from tlog_leaves"
        " where entity_type = $1 and entity_id = any($2::text[]) group by entity_id",
        entity_type,
        list(entity_ids),
    )
    found = {r["entity_id"]: int(r["idx"]) for r in rows}
    return [found.get(k) for k in entity_ids]


async def leaves_by_indexes(db: Db, indexes: Sequence[int]) -> list[LeafRow | None]:
    rows = await db.fetch(
        "select idx, leaf, entity_type, entity_id from tlog_leaves where idx = any($1::bigint[])",
        list(indexes),
    )
    found = {r["idx"]: LeafRow(r["idx"], bytes(r["leaf"]), r["entity_type"], r["entity_id"]) for r in rows}
    return [found.get(i) for i in indexes]


async def node_range(db: Db, level: int, start: int, count: int) -> list[bytes]:
    """The stored hashes at `level` from index `start`, at most `count`, in index order (one tile)."""
    rows = await db.fetch(
        "select hash from tlog_nodes where level = $1 and idx >= $2 and idx < $2 + $3 order by idx",
        level,
        start,
        count,
    )
    return [bytes(r["hash"]) for r in rows]


async def leaf_range(db: Db, start: int, count: int) -> list[bytes]:
    """The leaves from index `start`, at most `count`, in index order (one entry bundle)."""
    rows = await db.fetch(
        "select leaf from tlog_leaves where idx >= $1 and idx < $1 + $2 order by idx", start, count
    )
    return [bytes(r["leaf"]) for r in rows]


async def all_leaves(db: Db) -> list[bytes]:
    return [bytes(r["leaf"]) for r in await db.fetch("select leaf from tlog_leaves order by idx")]


async def tree_size(db: Db) -> int:
    return int(await db.fetchval("select coalesce(max(idx) + 1, 0) from tlog_leaves"))


async def latest_checkpoint(db: Db) -> CheckpointRow | None:
    row = await db.fetchrow(
        "select tree_size, root_hash, note from tlog_checkpoints order by tree_size desc limit 1"
    )
    return None if row is None else CheckpointRow(row["tree_size"], bytes(row["root_hash"]), row["note"])


async def insert_checkpoint(tx: Db, cp: CheckpointRow) -> None:
    await tx.execute(
        "insert into tlog_checkpoints (tree_size, root_hash, note) values ($1, $2, $3)"
        " on conflict (tree_size) do nothing",
        cp.tree_size,
        cp.root_hash,
        cp.note,
    )


async def listed_sources(db: Db, wanted: Sequence[tuple[int, str, str, str, str]]) -> set[tuple[int, str]]:
    """Of (release id, manufacturer, model, hardware version, source firmware version), the (release
    id, source) pairs whose source is on the CPL (Current or Removed): what fir:read may see of them."""
    if not wanted:
        return set()
    found = await db.fetch(
        "select u.id, u.fw from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])"
        " as u(id, m, mo, hw, fw) where exists (select from cpl_entries c where (c.manufacturer_id,"
        " c.model_id, c.hardware_version, c.firmware_version) = (u.m, u.mo, u.hw, u.fw))",
        *(list(column) for column in zip(*wanted, strict=True)),
    )
    return {(r["id"], r["fw"]) for r in found}


async def published_sourcing(db: Db, listed: Sequence[tuple[str, str, str, str]]) -> list[int]:
    """Published releases that name one of these (manufacturer, model, hardware, firmware) as an
    upgrade source, by id."""
    if not listed:
        return []
    found = await db.fetch(
        "select distinct r.id from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as l(m, mo, hw, fw)"
        " join firmware_releases r on (r.manufacturer_id, r.model_id, r.hardware_version) = (l.m, l.mo, l.hw)"
        " join release_upgradable_from u on u.release_id = r.id and u.from_firmware_version = l.fw"
        f" where r.status = '{ReleaseStatus.PUBLISHED}' order by r.id",
        *(list(column) for column in zip(*listed, strict=True)),
    )
    return [r["id"] for r in found]
