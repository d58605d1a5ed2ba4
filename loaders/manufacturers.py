"""SQL for manufacturers and their contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from loaders import rows
from loaders.batching import DbLoader
from loaders.db import Db

_COLUMNS = "manufacturer_id, name, website"


class ManufacturerByIdLoader(DbLoader[str, rows.ManufacturerRow | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[rows.ManufacturerRow | None]:
        found = {
            r["manufacturer_id"]: rows.manufacturer(r)
            for r in await self.db.fetch_keyed(
                f"select {_COLUMNS} from manufacturers where manufacturer_id = any($1::text[])", list(keys)
            )
        }
        return [found.get(k) for k in keys]


class ContactsByManufacturerLoader(DbLoader[str, list[rows.ContactRow]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[rows.ContactRow]]:
        found: dict[str, list[rows.ContactRow]] = defaultdict(list)
        for r in await self.db.fetch_keyed(
            "select manufacturer_id, role::text, name, email, phone from contacts"
            " where manufacturer_id = any($1::text[]) and retired_at is null"
            " order by manufacturer_id, position, id",
            list(keys),
        ):
            found[r["manufacturer_id"]].append(rows.contact(r))
        return [found.get(k, []) for k in keys]


async def manufacturers_page(db: Db, *, after: str | None, limit: int) -> list[rows.ManufacturerRow]:
    """Manufacturers ordered by identifier, keyset-paged; `limit` rows at most."""
    return [
        rows.manufacturer(r)
        for r in await db.fetch(
            f"select {_COLUMNS} from manufacturers where $1::text is null or manufacturer_id > $1"
            " order by manufacturer_id limit $2",
            after,
            limit,
        )
    ]
