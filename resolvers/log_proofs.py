"""Proofs in the graph: an entity's newest leaf, its inclusion path in the newest signed checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loaders import tlog
from loaders.db import Db
from loaders.tlog import CheckpointRow
from resolvers import merkle
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class Proof:
    leaf_index: int
    tree_size: int
    leaf: bytes
    inclusion_path: list[bytes]
    checkpoint: str


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    from_size: int
    to_size: int
    path: list[bytes]
    checkpoint: str


async def proof_of(ctx: Context, entity_type: str, entity_id: str) -> Proof | None:
    """None until the entity's newest leaf is in a signed checkpoint (a few seconds after a change).

    The caller has already been allowed to see the entity; a leaf only ever states published facts.
    """
    loaders = ctx.loaders
    checkpoint = await loaders.log_checkpoint.load(0)
    leaf = await loaders.log_leaf_by_entity.load((entity_type, entity_id))
    if checkpoint is None or leaf is None or leaf.idx >= checkpoint.tree_size:
        return None
    size = checkpoint.tree_size
    wanted = sorted(merkle.inclusion_nodes(leaf.idx, size))
    stored = dict(zip(wanted, await loaders.log_node.load_many(wanted), strict=True))
    path = merkle.inclusion_proof(leaf.idx, size, {k: v for k, v in stored.items() if v is not None})
    return Proof(leaf.idx, size, leaf.leaf, path, checkpoint.note)


async def consistency_of(ctx: Context, old: int, new: int) -> ConsistencyProof | None:
    """From tree size `old` to `new`, both at most the newest checkpoint's size; None otherwise."""
    checkpoint: CheckpointRow | None = await ctx.loaders.log_checkpoint.load(0)
    if checkpoint is None or not 0 <= old <= new <= checkpoint.tree_size:
        return None
    wanted = sorted(merkle.consistency_nodes(old, new))
    found = await ctx.loaders.log_node.load_many(wanted)
    stored = {k: v for k, v in zip(wanted, found, strict=True) if v is not None}
    return ConsistencyProof(old, new, merkle.consistency_proof(old, new, stored), checkpoint.note)


async def checkpointed_proofs(
    db: Db, checkpoint: CheckpointRow | None, entity_type: str, entity_ids: Sequence[str]
) -> list[Proof | None]:
    """Proofs of many entities' newest leaves against one checkpoint, in three statements (the export)."""
    if checkpoint is None:
        return [None for _ in entity_ids]
    size = checkpoint.tree_size
    indexes = await tlog.latest_leaf_indexes(db, entity_type, entity_ids)
    signed = [i for i in indexes if i is not None and i < size]
    leaves = {r.idx: r.leaf for r in await tlog.leaves_by_indexes(db, signed) if r is not None}
    stored = await tlog.nodes(db, {n for i in signed for n in merkle.inclusion_nodes(i, size)})
    return [
        None
        if i is None or i not in leaves
        else Proof(i, size, leaves[i], merkle.inclusion_proof(i, size, stored), checkpoint.note)
        for i in indexes
    ]
