"""Read rules for manufacturers, device models and CPL entries: lookups and pages."""

from __future__ import annotations

from loaders import cpl, manufacturers, models
from loaders.rows import CplEntryRow, ManufacturerRow, ModelRow
from resolvers.context import Context
from resolvers.identity import optional_hex, require_hex
from resolvers.pagination import INT32_MAX, Keyset, Page, decimal_key, fetch_page


async def manufacturer(ctx: Context, manufacturer_id: str) -> ManufacturerRow | None:
    return await ctx.loaders.manufacturer_by_id.load(require_hex(manufacturer_id, 4, "manufacturerId"))


def _model_key(key: str | None) -> tuple[str, str] | None:
    if key is None:
        return None
    manufacturer_id, _, model_id = key.partition("/")
    return (manufacturer_id, model_id)


_MANUFACTURERS: Keyset[str | None, ManufacturerRow] = Keyset(
    "manufacturer", lambda key: key, lambda r: r.manufacturer_id
)
_MODELS: Keyset[tuple[str, str] | None, ModelRow] = Keyset(
    "model", _model_key, lambda r: f"{r.manufacturer_id}/{r.model_id}"
)
_CPL_ENTRIES: Keyset[int | None, CplEntryRow] = Keyset("cpl", decimal_key(INT32_MAX), lambda r: str(r.number))


async def manufacturers_page(ctx: Context, first: int | None, after: str | None) -> Page[ManufacturerRow]:
    loaders = ctx.loaders
    return await fetch_page(
        _MANUFACTURERS,
        first,
        after,
        ctx.limits.max_page_size,
        lambda position, limit: manufacturers.manufacturers_page(loaders.db, after=position, limit=limit),
        lambda row: loaders.manufacturer_by_id.prime(row.manufacturer_id, row),
    )


async def models_page(
    ctx: Context, first: int | None, after: str | None, manufacturer_id: str | None, device_type: str | None
) -> Page[ModelRow]:
    loaders = ctx.loaders

    return await fetch_page(
        _MODELS,
        first,
        after,
        ctx.limits.max_page_size,
        lambda position, limit: models.models_page(
            loaders.db,
            after=position,
            limit=limit,
            manufacturer_id=optional_hex(manufacturer_id, 4, "manufacturerId"),
            device_type=device_type,
        ),
        lambda row: loaders.model_by_key.prime((row.manufacturer_id, row.model_id), row),
    )


async def cpl_entry(ctx: Context, number: int) -> CplEntryRow | None:
    return await ctx.loaders.cpl_entry_by_number.load(number)


async def cpl_entries_page(
    ctx: Context, first: int | None, after: str | None, status: str | None, manufacturer_id: str | None
) -> Page[CplEntryRow]:
    loaders = ctx.loaders

    return await fetch_page(
        _CPL_ENTRIES,
        first,
        after,
        ctx.limits.max_page_size,
        lambda position, limit: cpl.cpl_entries_page(
            loaders.db,
            after=position,
            limit=limit,
            status=status,
            manufacturer_id=optional_hex(manufacturer_id, 4, "manufacturerId"),
        ),
        lambda row: loaders.cpl_entry_by_number.prime(row.number, row),
    )
