"""Manufacturers, contacts, device models and CPL entries: the public CPL plus the FIR contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import strawberry
from strawberry.types import Info

from loaders.rows import ContactRow, CplEntryRow, ManufacturerRow, ModelRow
from loaders.vocabulary import EntityType
from resolvers import log_proofs
from resolvers import releases as release_rules
from resolvers.context import Context
from resolvers.identity import FIELDS as IDENTITY_FIELDS
from resolvers.identity import parse_identity, require_hex
from schema import from_rows
from schema.enums import ContactRole, CplStatus, DeviceType
from schema.loaded import loaded
from schema.sizes import CONTACTS, CPL_ENTRIES_PER_MODEL, MODELS_PER_MANUFACTURER
from schema.transparency import LogProof

if TYPE_CHECKING:
    from schema.releases import FirmwareRelease

Ctx = Info[Context, Any]
FirmwareReleaseRef = Annotated["FirmwareRelease", strawberry.lazy("schema.releases")]


@strawberry.type(description="Whom to contact at a manufacturer about firmware, support or security.")
class Contact:
    role: ContactRole
    name: str | None
    email: str | None
    phone: str | None

    from_row: ClassVar[Callable[[ContactRow], Contact]]


Contact.from_row = from_rows.derive(Contact, ContactRow, converted={"role": ContactRole})


@strawberry.federation.type(keys=["manufacturerId"], description="A meter manufacturer (ZigBee code).")
class Manufacturer:
    manufacturer_id: str
    name: str
    row: strawberry.Private[ManufacturerRow]
    from_row: ClassVar[Callable[[ManufacturerRow], Manufacturer]]

    @strawberry.field
    def website(self) -> str | None:
        return self.row.website

    @strawberry.field(
        graphql_type=list[Contact] | None,
        directives=[CONTACTS],
        description="Firmware, support and security contacts.",
    )
    def contacts(self, info: Ctx) -> list[Contact] | Awaitable[list[Contact] | None] | None:
        return contacts_of(info, self.manufacturer_id)

    @strawberry.field(directives=[MODELS_PER_MANUFACTURER])
    async def device_models(self, info: Ctx) -> list[DeviceModel]:
        found = await info.context.loaders.models_by_manufacturer.load(self.manufacturer_id)
        return [DeviceModel.from_row(m) for m in found]

    @classmethod
    async def resolve_reference(cls, info: Ctx, manufacturerId: str) -> Manufacturer | None:
        # a malformed key is BAD_USER_INPUT at its index, as in the root fields, never "no such row"
        key = require_hex(manufacturerId, 4, "manufacturerId")
        row = await info.context.loaders.manufacturer_by_id.load(key)
        return cls.from_row(row) if row else None


@strawberry.federation.type(keys=["manufacturerId modelId"], description="A device model of a manufacturer.")
class DeviceModel:
    manufacturer_id: str
    model_id: str
    name: str | None
    device_type: DeviceType
    from_row: ClassVar[Callable[[ModelRow], DeviceModel]]

    @strawberry.field(graphql_type=Manufacturer)
    def manufacturer(self, info: Ctx) -> Manufacturer | Awaitable[Manufacturer]:
        return manufacturer_of(info, self.manufacturer_id)

    @strawberry.field(
        directives=[CPL_ENTRIES_PER_MODEL], description="Every CPL entry of this model, by entry number."
    )
    async def cpl_entries(self, info: Ctx) -> list[CplEntry]:
        found = await info.context.loaders.cpl_entries_by_model.load((self.manufacturer_id, self.model_id))
        return [CplEntry.from_row(e) for e in found]

    @classmethod
    async def resolve_reference(
        cls,
        info: Ctx,
        manufacturerId: str,
        modelId: str,
    ) -> DeviceModel | None:
        key = (require_hex(manufacturerId, 4, "manufacturerId"), require_hex(modelId, 4, "modelId"))
        row = await info.context.loaders.model_by_key.load(key)
        return cls.from_row(row) if row else None


@strawberry.federation.type(
    keys=["number", "manufacturerId modelId hardwareVersion firmwareVersion"],
    description="A Central Products List entry: one device model, hardware and firmware combination.",
)
class CplEntry:
    number: int
    status: CplStatus
    device_type: DeviceType
    cpl_version: str | None
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    smets_chts_version: str | None
    gbcs_version: str | None
    image_hash: str
    listed_on: dt.date | None
    removed_on: dt.date | None
    row: strawberry.Private[CplEntryRow]
    from_row: ClassVar[Callable[[CplEntryRow], CplEntry]]

    @strawberry.field(description="The model concatenated with the hardware version, as the CPL prints it.")
    def model_hardware(self) -> str:
        return self.model_id + self.hardware_version

    @strawberry.field(graphql_type=DeviceModel)
    def model(self, info: Ctx) -> DeviceModel | Awaitable[DeviceModel]:
        return model_of(info, self.manufacturer_id, self.model_id)

    @strawberry.field(graphql_type=Manufacturer)
    def manufacturer(self, info: Ctx) -> Manufacturer | Awaitable[Manufacturer]:
        return manufacturer_of(info, self.manufacturer_id)

    @strawberry.field(
        description="Proof that the entry as it is now is in the signed log; null until signed."
    )
    async def proof(self, info: Ctx) -> LogProof | None:
        found = await log_proofs.proof_of(info.context, EntityType.CPL_ENTRY, str(self.number))
        return LogProof.from_proof(found) if found else None

    @strawberry.field(description="The FIR record for this entry.")
    async def release(self, info: Ctx) -> FirmwareReleaseRef | None:
        from schema.releases import FirmwareRelease

        found = await release_rules.release_of_entry(info.context, self.row)
        return FirmwareRelease.from_row(found) if found else None

    @classmethod
    async def resolve_reference(cls, info: Ctx, **key: Any) -> CplEntry | None:
        loaders = info.context.loaders
        if "number" in key:
            row = await loaders.cpl_entry_by_number.load(int(key["number"]))
        else:
            i = parse_identity(*(key.get(field) for field, _, _ in IDENTITY_FIELDS))
            found = await loaders.identity_rows.load(
                (i.manufacturer_id, i.model_id, i.hardware_version, i.firmware_version)
            )
            row = found.cpl_entry
        return cls.from_row(row) if row else None


Manufacturer.from_row = from_rows.derive(Manufacturer, ManufacturerRow)
DeviceModel.from_row = from_rows.derive(DeviceModel, ModelRow, converted={"device_type": DeviceType})
CplEntry.from_row = from_rows.derive(
    CplEntry, CplEntryRow, converted={"status": CplStatus, "device_type": DeviceType}
)


def contacts_of(info: Ctx, manufacturer_id: str) -> list[Contact] | Awaitable[list[Contact]]:
    """A manufacturer's live contacts: at once when the request holds them (a device query prefetches
    them when selected), else the awaitable that loads them."""
    return loaded(info.context.loaders.contacts_by_manufacturer, manufacturer_id, _contacts)


def manufacturer_of(info: Ctx, manufacturer_id: str) -> Manufacturer | Awaitable[Manufacturer]:
    """The manufacturer a row refers to (a foreign key: it exists); at once when the request holds it."""
    return loaded(info.context.loaders.manufacturer_by_id, manufacturer_id, _manufacturer)


def model_of(info: Ctx, manufacturer_id: str, model_id: str) -> DeviceModel | Awaitable[DeviceModel]:
    """The device model a row refers to (a foreign key: it exists); at once when the request holds it."""
    return loaded(info.context.loaders.model_by_key, (manufacturer_id, model_id), _model)


def _contacts(rows: list[ContactRow]) -> list[Contact]:
    return [Contact.from_row(c) for c in rows]


def _manufacturer(row: ManufacturerRow | None) -> Manufacturer:
    assert row is not None
    return Manufacturer.from_row(row)


def _model(row: ModelRow | None) -> DeviceModel:
    assert row is not None
    return DeviceModel.from_row(row)
