"""A device's firmware status: CPL entry, lineage, latest, upgrade path, for one device or a fleet."""

from __future__ import annotations

from dataclasses import dataclass

from loaders.rows import CplEntryRow, ManufacturerRow, ModelRow, ReleaseRow
from resolvers import paths
from resolvers.context import Context
from resolvers.identity import Identity
from resolvers.visibility import can_see_release


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the FIR says about one identity, as this caller may see it."""

    current: ReleaseRow | None
    latest: ReleaseRow | None
    is_latest: bool | None
    upgrade_path: list[ReleaseRow] | None
    lineage: list[ReleaseRow]


@dataclass(slots=True)
class DeviceStatus:
    identity: Identity
    cpl_entry: CplEntryRow | None
    model: ModelRow | None
    manufacturer: ManufacturerRow | None

    @property
    def on_cpl(self) -> bool:
        return self.cpl_entry is not None and self.cpl_entry.status == "CURRENT"


async def device_statuses(ctx: Context, identities: list[Identity]) -> list[DeviceStatus]:
    """One statement for any number of identities; nested fields then find their rows primed."""
    loaders = ctx.loaders
    found = await loaders.identity_rows.load_many(
        [(i.manufacturer_id, i.model_id, i.hardware_version, i.firmware_version) for i in identities]
    )
    for rows in found:
        if rows.cpl_entry is not None:
            loaders.cpl_entry_by_number.prime(rows.cpl_entry.number, rows.cpl_entry)
        if rows.model is not None:
            loaders.model_by_key.prime((rows.model.manufacturer_id, rows.model.model_id), rows.model)
        if rows.manufacturer is not None:
            loaders.manufacturer_by_id.prime(rows.manufacturer.manufacturer_id, rows.manufacturer)
    return [
        DeviceStatus(identity, rows.cpl_entry, rows.model, rows.manufacturer)
        for identity, rows in zip(identities, found, strict=True)
    ]


async def analyse(ctx: Context, identity: Identity) -> Analysis:
    """Memoised per request: the five FIR fields of a status share one computation."""
    key = ("analysis", identity)
    found: Analysis | None = ctx.memo.get(key)
    if found is None:
        releases = await ctx.loaders.releases_by_model_hw.load(identity.model_key)
        found = ctx.memo[key] = compute(ctx, identity, releases)
    return found


def compute(ctx: Context, identity: Identity, releases: list[ReleaseRow]) -> Analysis:
    visible = [r for r in releases if can_see_release(ctx.principal, r)]
    latest = paths.latest(visible)
    current = current_release(identity.firmware_version, visible)
    if latest is None:
        return Analysis(current, None, None, None, paths.lineage(visible))
    is_latest = latest.firmware_version == identity.firmware_version
    route = [] if is_latest else paths.upgrade_path(identity.firmware_version, latest, visible)
    return Analysis(current, latest, is_latest, route, paths.lineage(visible))


def current_release(firmware_version: str, releases: list[ReleaseRow]) -> ReleaseRow | None:
    """The live record for this firmware, else the most recent withdrawn one."""
    mine = [r for r in releases if r.firmware_version == firmware_version]
    live = [r for r in mine if r.status != "WITHDRAWN"]
    return (live or mine)[-1] if mine else None
