"""Read rules for manufacturers, device models and CPL entries: lookups and pages."""

from __future__ import annotations

from loaders import cpl, manufacturers, models
from loaders.rows import CplEntryRow, ManufacturerRow, ModelRow
from resolvers.context import Context
from resolvers.identity import require_hex
from resolvers.pagination import INT32_MAX, Page, decimal_position, decode_cursor, make_page, page_size


async def manufacturer(ctx: Context, manufacturer_id: str) -> ManufacturerRow | None:
    return await ctx.loaders.manufacturer_by_id.load(require_hex(manufacturer_id, 4, "manufacturerId"))


async def manufacturers_page(ctx: Context, first: int | None, after: str | None) -> Page[ManufacturerRow]:
    limit = page_size(first, ctx.limits.max_page_size)
    position = decode_cursor("manufacturer", after)
    found = await manufacturers.manufacturers_page(ctx.loaders.db, after=position, limit=limit + 1)
    for row in found:
        ctx.loaders.manufacturer_by_id.prime(row.manufacturer_id, row)
    return make_page("manufacturer", found, limit, lambda r: r.manufacturer_id, after=after)


async def models_page(
    ctx: Context, first: int | None, after: str | None, manufacturer_id: str | None, device_type: str | None
) -> Page[ModelRow]:
    limit = page_size(first, ctx.limits.max_page_size)
    position = decode_cursor("model", after)
    key: tuple[str, str] | None = None
    if position is not None:
        mfr, _, model = position.partition("/")
        key = (mfr, model)
    mfr_id = require_hex(manufacturer_id, 4, "manufacturerId") if manufacturer_id is not None else None
    found = await models.models_page(
        ctx.loaders.db, after=key, limit=limit + 1, manufacturer_id=mfr_id, device_type=device_type
    )
    for row in found:
        ctx.loaders.model_by_key.prime((row.manufacturer_id, row.model_id), row)
    return make_page("model", found, limit, lambda r: f"{r.manufacturer_id}/{r.model_id}", after=after)


async def cpl_entry(ctx: Context, number: int) -> CplEntryRow | None:
    return await ctx.loaders.cpl_entry_by_number.load(number)


async def cpl_entries_page(
    ctx: Context, first: int | None, after: str | None, status: str | None, manufacturer_id: str | None
) -> Page[CplEntryRow]:
    limit = page_size(first, ctx.limits.max_page_size)
    position = decimal_position("cpl", after, INT32_MAX)
    mfr_id = require_hex(manufacturer_id, 4, "manufacturerId") if manufacturer_id is not None else None
    found = await cpl.cpl_entries_page(
        ctx.loaders.db,
        after=position,
        limit=limit + 1,
        status=status,
        manufacturer_id=mfr_id,
    )
    for row in found:
        ctx.loaders.cpl_entry_by_number.prime(row.number, row)
    return make_page("cpl", found, limit, lambda r: str(r.number), after=after)
