"""A device's firmware status, for one device or a whole fleet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import strawberry
from strawberry.types import Info

from resolvers import devices as rules
from resolvers.context import Context
from resolvers.fleet import FleetResult
from resolvers.identity import FIELDS as IDENTITY_FIELDS
from resolvers.identity import Identity, parse_identity
from schema import from_rows
from schema.catalogue import Contact, CplEntry, DeviceModel, Manufacturer
from schema.releases import FirmwareRelease, releases
from schema.sizes import CONTACTS, FLEET_GROUPS, FLEET_PROBLEMS, LINEAGE, UPGRADE_PATH

Ctx = Info[Context, Any]

# A supplier's asset graph holds the four identity fields of each meter: that is the key.
IDENTITY_KEY = "identity { " + " ".join(field for field, _, _ in IDENTITY_FIELDS) + " }"


@strawberry.input(description="A device as it reports itself; hex in any case, surrounding spaces ignored.")
class DeviceIdentityInput:
    manufacturer_id: str = strawberry.field(description="4 hex digits (ZigBee manufacturer code)")
    model_id: str = strawberry.field(description="4 hex digits")
    hardware_version: str = strawberry.field(
        description='4 hex digits: version then revision octet, e.g. "00AC"'
    )
    firmware_version: str = strawberry.field(
        description='8 hex digits; also as the CPL writes them: "0x124074DA", "12.40.74.DA", "3030236"'
    )


@strawberry.federation.type(
    shareable=True, description="A normalised device identity (upper-case hex); other graphs hold it too."
)
class DeviceIdentity:
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    from_identity: ClassVar[Callable[[Identity], DeviceIdentity]]


DeviceIdentity.from_identity = from_rows.derive(DeviceIdentity, Identity)


@strawberry.federation.type(
    keys=[IDENTITY_KEY],
    description="Whether a device's firmware is the latest, how to get there and whom to ask.",
)
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

    @classmethod
    async def resolve_reference(cls, info: Ctx, identity: dict[str, str]) -> DeviceFirmwareStatus:
        """Another graph's device: the same normalisation as device(identity:), batched per request."""
        parsed = parse_identity(*(identity.get(field) for field, _, _ in IDENTITY_FIELDS), prefix="identity.")
        return cls.from_status(await rules.device_status(info.context, parsed))

    @property
    def _analysis(self) -> rules.Analysis:
        # computed with the status for any caller the guards let through (see device_statuses)
        assert self.status.analysis is not None
        return self.status.analysis

    @strawberry.field(description="The FIR record for this firmware.")
    def current(self) -> FirmwareRelease | None:
        found = self._analysis.current
        return FirmwareRelease.from_row(found) if found else None

    @strawberry.field(
        description="The newest published release on a Current CPL entry, same model and hardware version.",
    )
    def latest(self) -> FirmwareRelease | None:
        found = self._analysis.latest
        return FirmwareRelease.from_row(found) if found else None

    @strawberry.field(description="Null when unknown.")
    def is_latest(self) -> bool | None:
        return self._analysis.is_latest

    @strawberry.field(
        directives=[UPGRADE_PATH],
        description="Fewest steps from current to latest along upgradable-from edges, current excluded, "
        "latest included; [] when latest; null when no path exists.",
    )
    def upgrade_path(self) -> list[FirmwareRelease] | None:
        found = self._analysis.upgrade_path
        return None if found is None else releases(found)

    @strawberry.field(
        directives=[LINEAGE],
        description="Every published release of this model and hardware version, oldest first.",
    )
    def lineage(self) -> list[FirmwareRelease]:
        return releases(self._analysis.lineage)

    @strawberry.field(directives=[CONTACTS], description="The manufacturer's contacts.")
    async def contacts(self, info: Ctx) -> list[Contact] | None:
        found = await info.context.loaders.contacts_by_manufacturer.load(self.status.identity.manufacturer_id)
        return [Contact.from_row(c) for c in found]


@strawberry.input(
    description="One device of a fleet: the four identity fields plus the caller's own reference."
)
class FleetDeviceInput:
    ref: str | None = None
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str


@strawberry.type
class FleetProblem:
    index: int
    ref: str | None
    field: str
    message: str


@strawberry.type
class FleetGroup:
    count: int
    refs: list[str]
    status: DeviceFirmwareStatus


@strawberry.type(
    description="A fleet's firmware status: one group per distinct identity, in first-seen order."
)
class FleetStatus:
    total: int
    distinct: int
    # Counted from the FIR, so guarded like the fields they summarise (schema.access). Nullable because a non-null
    # field cannot carry FORBIDDEN without nulling the whole fleetStatus; an anonymous caller gets
    # null and the error, never a misleading 0.
    up_to_date: int | None = strawberry.field(description="Devices on the latest release (fir:read).")
    outdated: int | None = strawberry.field(description="Devices not on the latest release (fir:read).")
    not_on_cpl: int
    no_upgrade_path: int | None = strawberry.field(
        description="Outdated devices with no upgrade path to the latest (fir:read).",
    )
    invalid: int = strawberry.field(description="Malformed devices never fail the fleet: counted and listed.")
    problems: list[FleetProblem] = strawberry.field(directives=[FLEET_PROBLEMS])
    groups: list[FleetGroup] = strawberry.field(directives=[FLEET_GROUPS])

    @classmethod
    def from_result(cls, r: FleetResult) -> FleetStatus:
        return cls(
            total=r.total,
            distinct=r.distinct,
            up_to_date=r.up_to_date,
            outdated=r.outdated,
            not_on_cpl=r.not_on_cpl,
            no_upgrade_path=r.no_upgrade_path,
            invalid=r.invalid,
            problems=[
                FleetProblem(index=p.index, ref=p.ref, field=p.field, message=p.message) for p in r.problems
            ],
            groups=[
                FleetGroup(count=g.count, refs=g.refs, status=DeviceFirmwareStatus.from_status(g.status))
                for g in r.groups
                if g.status is not None
            ],
        )
