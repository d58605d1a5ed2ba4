"""A device's firmware status, for one device or a whole fleet."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from resolvers import devices as rules
from resolvers.context import Context
from resolvers.identity import Identity
from schema.catalogue import Contact, CplEntry, DeviceModel, Manufacturer
from schema.permissions import requires_read
from schema.releases import FirmwareRelease, releases

Ctx = Info[Context, Any]


@strawberry.input(description="A device as it reports itself; hex in any case, surrounding spaces ignored.")
class DeviceIdentityInput:
    manufacturer_id: str = strawberry.field(description="4 hex digits (ZigBee manufacturer code)")
    model_id: str = strawberry.field(description="4 hex digits")
    hardware_version: str = strawberry.field(description='4 hex digits: version then revision octet, e.g. "00AC"')
    firmware_version: str = strawberry.field(description="8 hex digits")


@strawberry.type(description="A normalised device identity (upper-case hex).")
class DeviceIdentity:
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str

    @classmethod
    def from_identity(cls, i: Identity) -> DeviceIdentity:
        return cls(
            manufacturer_id=i.manufacturer_id,
            model_id=i.model_id,
            hardware_version=i.hardware_version,
            firmware_version=i.firmware_version,
        )


@strawberry.type(description="Whether a device's firmware is the latest, how to get there and whom to ask.")
class DeviceFirmwareStatus:
    identity: DeviceIdentity
    on_cpl: bool = strawberry.field(description="A Current CPL entry exists for exactly this identity.")
    cpl_entry: CplEntry | None
    model: DeviceModel | None
    manufacturer: Manufacturer | None
    status: strawberry.Private[rules.DeviceStatus]

    @classmethod
    def from_status(cls, s: rules.DeviceStatus) -> DeviceFirmwareStatus:
        return cls(
            identity=DeviceIdentity.from_identity(s.identity),
            on_cpl=s.on_cpl,
            cpl_entry=CplEntry.from_row(s.cpl_entry) if s.cpl_entry else None,
            model=DeviceModel.from_row(s.model) if s.model else None,
            manufacturer=Manufacturer.from_row(s.manufacturer) if s.manufacturer else None,
            status=s,
        )

    @strawberry.field(extensions=requires_read(), description="The FIR record for this firmware.")
    async def current(self, info: Ctx) -> FirmwareRelease | None:
        found = (await rules.analyse(info.context, self.status.identity)).current
        return FirmwareRelease.from_row(found) if found else None

    @strawberry.field(
        extensions=requires_read(),
        description="The newest published release on a Current CPL entry, same model and hardware version.",
    )
    async def latest(self, info: Ctx) -> FirmwareRelease | None:
        found = (await rules.analyse(info.context, self.status.identity)).latest
        return FirmwareRelease.from_row(found) if found else None

    @strawberry.field(extensions=requires_read(), description="Null when unknown.")
    async def is_latest(self, info: Ctx) -> bool | None:
        return (await rules.analyse(info.context, self.status.identity)).is_latest

    @strawberry.field(
        extensions=requires_read(),
        description="Fewest steps from current to latest along upgradable-from edges, current excluded, "
        "latest included; [] when latest; null when no path exists.",
    )
    async def upgrade_path(self, info: Ctx) -> list[FirmwareRelease] | None:
        found = (await rules.analyse(info.context, self.status.identity)).upgrade_path
        return None if found is None else releases(found)

    @strawberry.field(
        extensions=requires_read(),
        description="Every published release of this model and hardware version, oldest first.",
    )
    async def lineage(self, info: Ctx) -> list[FirmwareRelease]:
        return releases((await rules.analyse(info.context, self.status.identity)).lineage)

    @strawberry.field(extensions=requires_read(), description="The manufacturer's contacts.")
    async def contacts(self, info: Ctx) -> list[Contact] | None:
        found = await info.context.loaders.contacts_by_manufacturer.load(self.status.identity.manufacturer_id)
        return [Contact.from_row(c) for c in found]
