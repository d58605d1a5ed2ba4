"""SQL for device models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from loaders import rows
from loaders.batching import DbLoader
from loaders.db import Db

_COLUMNS = "manufacturer_id, model_id, name, device_type::text"
ModelKey = tuple[str, str]


class ModelByKeyLoader(DbLoader[ModelKey, rows.ModelRow | None]):
    async def batch_load_fn(self, keys: Sequence[ModelKey]) -> list[rows.ModelRow | None]:
        found = {
            (r["manufacturer_id"], r["model_id"]): rows.model(r)
            for r in await self.db.fetch_keyed(
                f"select {_COLUMNS} from device_models"
                " where (manufacturer_id, model_id) in (select * from unnest($1::text[], $2::text[]))",
                [k[0] for k in keys],
                [k[1] for k in keys],
            )
        }
        return [found.get(k) for k in keys]


class ModelsByManufacturerLoader(DbLoader[str, list[rows.ModelRow]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[rows.ModelRow]]:
        found: dict[str, list[rows.ModelRow]] = defaultdict(list)
        for r in await self.db.fetch_keyed(
            f"select {_COLUMNS} from device_models where manufacturer_id = any($1::text[])"
            " order by manufacturer_id, model_id",
            list(keys),
        ):
            found[r["manufacturer_id"]].append(rows.model(r))
        return [found.get(k, []) for k in keys]


async def models_page(
    db: Db, *, after: ModelKey | None, limit: int, manufacturer_id: str | None, device_type: str | None
) -> list[rows.ModelRow]:
    return [
        rows.model(r)
        for r in await db.fetch(
            f"select {_COLUMNS} from device_models"
            " where ($1::text is null or manufacturer_id = $1)"
            " and ($2::device_type is null or device_type = $2::device_type)"
            " and ($3::text is null or (manufacturer_id, model_id) > ($3, $4::text))"
            " order by manufacturer_id, model_id limit $5",
            manufacturer_id,
            device_type,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
    ]
