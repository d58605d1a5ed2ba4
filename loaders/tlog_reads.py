"""DataLoaders over the transparency log: an entity's newest leaf, stored nodes, the newest checkpoint."""

from __future__ import annotations

from collections.abc import Sequence

from loaders import tlog
from loaders.batching import DbLoader

EntityKey = tuple[str, str]  # (entity type, entity id)


class LogLeafByEntityLoader(DbLoader[EntityKey, tlog.LeafRow | None]):
    """The newest leaf about each entity: the fact as it stands now."""

    async def batch_load_fn(self, keys: Sequence[EntityKey]) -> list[tlog.LeafRow | None]:
        rows = await self.db.fetch_keyed(
            "select distinct on (l.entity_type, l.entity_id) l.idx, l.leaf, l.entity_type, l.entity_id"
            " from unnest($1::text[], $2::text[]) as k(t, i)"
            " join tlog_leaves l on l.entity_type = k.t and l.entity_id = k.i"
            " order by l.entity_type, l.entity_id, l.idx desc",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        found = {
            (r["entity_type"], r["entity_id"]): tlog.LeafRow(
                r["idx"], bytes(r["leaf"]), r["entity_type"], r["entity_id"]
            )
            for r in rows
        }
        return [found.get(k) for k in keys]


class LogNodeLoader(DbLoader[tlog.Node, bytes | None]):
    """Stored complete-subtree hashes: every proof of one request in one statement per tick."""

    async def batch_load_fn(self, keys: Sequence[tlog.Node]) -> list[bytes | None]:
        found = await tlog.nodes(self.db, keys)
        return [found.get(k) for k in keys]


class LatestCheckpointLoader(DbLoader[int, tlog.CheckpointRow | None]):
    """The newest signed checkpoint, read once per request (the key is always 0)."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[tlog.CheckpointRow | None]:
        latest = await tlog.latest_checkpoint(self.db)
        return [latest for _ in keys]
