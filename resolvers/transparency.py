"""The transparency log's rules: the unit-of-work consumer that appends leaves, proofs, and the audit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from loaders import tlog
from loaders.audit import Actor
from loaders.db import Db
from loaders.release_writes import releases_by_ids
from loaders.rows import CplEntryRow, ReleaseRow
from loaders.vocabulary import AuditAction, EntityType
from resolvers import checkpoints, merkle
from resolvers.errors import BadUserInput
from resolvers.log_leaves import leaf_of
from resolvers.unit_of_work import Change

MAX_LEAF_BYTES = 0xFFFF  # a C2SP tlog-tiles entry bundle prefixes each leaf with a 2-byte length


class LeafTooLarge(BadUserInput):
    """A fact whose leaf an entry bundle cannot carry: refused before anything is written."""


async def append_to_log(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
    """A consumer of the unit of work: every published fact of the transaction, as leaves, in order.

    Drafts and submissions append nothing, and a release's leaf names only the upgrade sources on
    the CPL (a pending submission it names is not a published fact). A CPL entry listed here makes
    the published releases that name its version as a source log again ("amended"): the newest leaf
    about a release states it as a fir:read caller sees it now.
    """
    published = await public_sources(tx, [c.after for c in changes if isinstance(c.after, ReleaseRow)])
    leaves = [
        tlog.NewLeaf(leaf, c.entity_type, c.entity_id)
        for c in changes
        if (leaf := leaf_of(c.action, c.entity_id, published.get(id(c.after), c.after))) is not None
    ]
    logged = {(x.entity_type, x.entity_id) for x in leaves}
    await append_leaves(tx, leaves + await _newly_sourced(tx, changes, logged))


async def public_sources(tx: Db, releases: Sequence[ReleaseRow]) -> dict[int, ReleaseRow]:
    """Each release (by id() of the row) as the log states it: its upgrade sources on the CPL only."""
    wanted = [(r.id, *r.identity[:3], v) for r in releases for v in r.upgradable_from]
    listed = await tlog.listed_sources(tx, wanted)
    return {
        id(r): replace(r, upgradable_from=tuple(v for v in r.upgradable_from if (r.id, v) in listed))
        for r in releases
    }


async def _newly_sourced(
    tx: Db, changes: Sequence[Change], logged: set[tuple[str, str]]
) -> list[tlog.NewLeaf]:
    listed = [
        (c.after.manufacturer_id, c.after.model_id, c.after.hardware_version, c.after.firmware_version)
        for c in changes
        if c.action is AuditAction.CPL_ENTRY_LIST and isinstance(c.after, CplEntryRow)
    ]
    sourcing = await tlog.published_sourcing(tx, listed)
    ids = [i for i in sourcing if (EntityType.FIRMWARE_RELEASE, str(i)) not in logged]
    rows = await releases_by_ids(tx, ids)
    public = await public_sources(tx, rows)
    return [
        tlog.NewLeaf(leaf, EntityType.FIRMWARE_RELEASE, str(r.id))
        for r in rows
        if (leaf := leaf_of(AuditAction.RELEASE_AMEND, str(r.id), public[id(r)])) is not None
    ]


async def append_leaves(tx: Db, leaves: Sequence[tlog.NewLeaf]) -> None:
    """The leaves at the end of the log, with the complete subtrees they make.

    The append lock serialises appenders from here to commit, so the log has one order and a
    concurrent burst lands whole.
    """
    if not leaves:
        return
    for x in leaves:
        if len(x.leaf) > MAX_LEAF_BYTES:
            raise LeafTooLarge(
                f"{x.entity_type} {x.entity_id} would be a log leaf of {len(x.leaf)} bytes;"
                f" the transparency log takes at most {MAX_LEAF_BYTES}"
            )
    await tlog.lock_appends(tx)
    size, frontier = await tlog.size_and_frontier(tx)
    made = merkle.new_nodes(size, frontier, [merkle.leaf_hash(x.leaf) for x in leaves])
    await tlog.append(tx, size, leaves, made)


async def inclusion(db: Db, index: int, size: int) -> list[bytes] | None:
    """The inclusion path of leaf `index` in the tree of `size` leaves: O(log n) rows, one read."""
    if not 0 <= index < size:
        return None
    stored = await tlog.nodes(db, merkle.inclusion_nodes(index, size))
    return merkle.inclusion_proof(index, size, stored)


async def consistency(db: Db, old: int, new: int) -> list[bytes] | None:
    if not 0 <= old <= new or new > await tlog.tree_size(db):
        return None
    stored = await tlog.nodes(db, merkle.consistency_nodes(old, new))
    return merkle.consistency_proof(old, new, stored)


async def root_at(db: Db, size: int) -> bytes:
    return merkle.root(size, await tlog.nodes(db, merkle.root_nodes(size)))


@dataclass(frozen=True, slots=True)
class AuditResult:
    tree_size: int
    root_hash: bytes
    checkpoint_size: int | None
    problems: list[str]


async def audit(db: Db) -> AuditResult:
    """Recompute the whole tree from the leaves and compare it with the stored nodes and the newest checkpoint."""
    leaves = await tlog.all_leaves(db)
    hashes = [merkle.leaf_hash(x) for x in leaves]
    recomputed = merkle.new_nodes(0, {}, hashes)
    problems: list[str] = []
    stored = await tlog.nodes(db, recomputed)
    bad = sorted(n for n, h in recomputed.items() if stored.get(n) != h)
    problems += [f"stored node level {lv} index {i} differs from the leaves" for lv, i in bad[:10]]
    cp = await tlog.latest_checkpoint(db)
    root_hash = merkle.root(len(hashes), recomputed)
    if cp is not None:
        if cp.tree_size > len(hashes):
            problems.append(f"checkpoint of size {cp.tree_size} but only {len(hashes)} leaves")
        elif merkle.root(cp.tree_size, recomputed) != cp.root_hash:
            problems.append(f"checkpoint of size {cp.tree_size} does not match the leaves' root")
    return AuditResult(
        len(hashes),
        root_hash,
        None if cp is None else cp.tree_size,
        problems,
    )


async def sign_checkpoint(db: Db, origin: str, private: Ed25519PrivateKey) -> tlog.CheckpointRow | None:
    """Sign the tree as it is now, if it grew since the newest checkpoint and no other replica is signing.

    The signing lock makes one signer at a time, and the size is read under it, so two replicas never
    sign two different trees of one size (a fork); checkpoints only grow.
    """
    async with db.transaction() as tx:
        if not await tlog.try_lock_signing(tx):
            return None
        size = await tlog.tree_size(tx)
        latest = await tlog.latest_checkpoint(tx)
        if size == 0 or (latest is not None and latest.tree_size >= size):
            return None
        root_hash = await root_at(tx, size)
        row = tlog.CheckpointRow(
            size, root_hash, checkpoints.sign(checkpoints.Checkpoint(origin, size, root_hash), private)
        )
        await tlog.insert_checkpoint(tx, row)
        return row
