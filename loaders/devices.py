"""SQL for device identities: CPL entry, model and manufacturer of many identities in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from loaders import rows
from loaders.batching import DbLoader

IdentityKey = tuple[str, str, str, str]

_SQL = (
    "select i.ord,"
    " c.number, c.status::text as status, c.manufacturer_id, c.model_id, c.hardware_version,"
    " c.firmware_version, c.device_type::text as device_type, c.smets_chts_version, c.gbcs_version,"
    " c.image_hash, c.cpl_version, c.listed_on, c.removed_on,"
    " m.model_id as m_model_id, m.name as m_name, m.device_type::text as m_device_type,"
    " f.manufacturer_id as f_manufacturer_id, f.name as f_name, f.website as f_website"
    " from unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as i(mfr, model, hw, fw, ord)"
    " left join manufacturers f on f.manufacturer_id = i.mfr"
    " left join device_models m on m.manufacturer_id = i.mfr and m.model_id = i.model"
    " left join cpl_entries c on c.manufacturer_id = i.mfr and c.model_id = i.model"
    "  and c.hardware_version = i.hw and c.firmware_version = i.fw"
)


@dataclass(frozen=True, slots=True)
class IdentityRows:
    """What the CPL knows of one identity; any part may be unknown."""

    cpl_entry: rows.CplEntryRow | None
    model: rows.ModelRow | None
    manufacturer: rows.ManufacturerRow | None


class IdentityRowsLoader(DbLoader[IdentityKey, IdentityRows]):
    """One round trip for any number of identities: the fleet check's and the device query's first step."""

    async def batch_load_fn(self, keys: Sequence[IdentityKey]) -> list[IdentityRows]:
        found = await self.db.fetch_keyed(_SQL, *(list(column) for column in zip(*keys, strict=True)))
        by_position = {r["ord"]: r for r in found}
        return [_identity_rows(key, by_position[n]) for n, key in enumerate(keys, start=1)]


def _identity_rows(key: IdentityKey, r: asyncpg.Record) -> IdentityRows:
    entry = rows.cpl_entry(r) if r["number"] is not None else None
    model = (
        rows.ModelRow(key[0], r["m_model_id"], r["m_name"], r["m_device_type"]) if r["m_model_id"] else None
    )
    maker = (
        rows.ManufacturerRow(r["f_manufacturer_id"], r["f_name"], r["f_website"])
        if r["f_manufacturer_id"]
        else None
    )
    return IdentityRows(entry, model, maker)
