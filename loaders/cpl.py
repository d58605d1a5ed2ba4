"""SQL for CPL entries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from loaders import rows
from loaders.batching import DbLoader
from loaders.db import Db

_FIELDS = (
    "number",
    "status::text",
    "manufacturer_id",
    "model_id",
    "hardware_version",
    "firmware_version",
    "device_type::text",
    "smets_chts_version",
    "gbcs_version",
    "image_hash",
    "cpl_version",
    "listed_on",
    "removed_on",
)


def columns(alias: str | None = None) -> str:
    """The select list rows.cpl_entry reads, qualified by `alias` where a join makes names ambiguous."""
    return ", ".join(f"{alias}.{f}" if alias else f for f in _FIELDS)


COLUMNS = columns()


class CplEntryByNumberLoader(DbLoader[int, rows.CplEntryRow | None]):
    async def batch_load_fn(self, keys: Sequence[int]) -> list[rows.CplEntryRow | None]:
        found = {
            r["number"]: rows.cpl_entry(r)
            for r in await self.db.fetch_keyed(
                f"select {COLUMNS} from cpl_entries where number = any($1::int[])", list(keys)
            )
        }
        return [found.get(k) for k in keys]


class CplEntriesByModelLoader(DbLoader[tuple[str, str], list[rows.CplEntryRow]]):
    async def batch_load_fn(self, keys: Sequence[tuple[str, str]]) -> list[list[rows.CplEntryRow]]:
        found: dict[tuple[str, str], list[rows.CplEntryRow]] = defaultdict(list)
        for r in await self.db.fetch_keyed(
            f"select {COLUMNS} from cpl_entries"
            " where (manufacturer_id, model_id) in (select * from unnest($1::text[], $2::text[]))"
            " order by number",
            [k[0] for k in keys],
            [k[1] for k in keys],
        ):
            found[(r["manufacturer_id"], r["model_id"])].append(rows.cpl_entry(r))
        return [found.get(k, []) for k in keys]


class CplVersionsByModelHwLoader(DbLoader[tuple[str, str, str], frozenset[str]]):
    """The firmware versions on the CPL (any status) for a model and hardware version."""

    async def batch_load_fn(self, keys: Sequence[tuple[str, str, str]]) -> list[frozenset[str]]:
        found: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for r in await self.db.fetch_keyed(
            "select manufacturer_id, model_id, hardware_version, firmware_version from cpl_entries"
            " where (manufacturer_id, model_id, hardware_version) in"
            " (select * from unnest($1::text[], $2::text[], $3::text[]))",
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
        ):
            found[r[0], r[1], r[2]].add(r[3])
        return [frozenset(found.get(k, ())) for k in keys]


async def cpl_entries_page(
    db: Db, *, after: int | None, limit: int, status: str | None, manufacturer_id: str | None
) -> list[rows.CplEntryRow]:
    return [
        rows.cpl_entry(r)
        for r in await db.fetch(
            f"select {COLUMNS} from cpl_entries"
            " where ($1::int is null or number > $1)"
            " and ($2::cpl_status is null or status = $2::cpl_status)"
            " and ($3::text is null or manufacturer_id = $3)"
            " order by number limit $4",
            after,
            status,
            manufacturer_id,
            limit,
        )
    ]
