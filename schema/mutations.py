"""The Mutation root: manufacturers publish and withdraw; SECAS administers the catalogue and the CPL."""

from __future__ import annotations

import datetime as dt
from operator import attrgetter
from typing import Any

import strawberry
from strawberry.types import Info

from resolvers import administration as admin
from resolvers import amendments, publishing
from resolvers.context import Context
from schema import from_rows
from schema.catalogue import CplEntry, Manufacturer
from schema.enums import ContactRole, CplStatus, DeviceType, Urgency
from schema.releases import FirmwareRelease

Ctx = Info[Context, Any]


@strawberry.input(description="A firmware release for one of the caller's own device models.")
class SubmitFirmwareReleaseInput:
    manufacturer_id: str = strawberry.field(
        description="4 hex digits; must be a manufacturer the caller publishes for"
    )
    model_id: str = strawberry.field(description="4 hex digits")
    hardware_version: str = strawberry.field(description="4 hex digits: version then revision octet")
    firmware_version: str = strawberry.field(description="8 hex digits")
    image_hash: str = strawberry.field(description="SHA-256 of the manufacturer image, 64 hex digits")
    release_date: dt.date | None = None
    release_notes: str | None = strawberry.field(default=None, description="At most 20000 characters")
    urgency: Urgency | None = None
    advisories: list[str] = strawberry.field(
        default_factory=list, description="CVE ids (CVE-2024-12345) or vendor ids of at most 64 characters"
    )
    upgradable_from: list[str] = strawberry.field(
        default_factory=list,
        description="Firmware versions (8 hex, same model and hardware) that may upgrade to this one",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retries with the same key (per manufacturer) return the first result"
    )


@strawberry.input
class ManufacturerInput:
    manufacturer_id: str = strawberry.field(description="4 hex digits (ZigBee manufacturer code)")
    name: str
    website: str | None = None


@strawberry.input
class ContactInput:
    role: ContactRole
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.input(description="One CPL entry as SECAS lists it; the device model is created if needed.")
class CplEntryInput:
    number: int
    status: CplStatus | None = strawberry.field(default=None, description="CURRENT when omitted")
    device_type: DeviceType
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    smets_chts_version: str | None = None
    gbcs_version: str | None = None
    image_hash: str
    cpl_version: str | None = None
    listed_on: dt.date | None = strawberry.field(
        default=None, description="When omitted: the date of the CPL issue cplVersion names, else today"
    )
    model_name: str | None = strawberry.field(default=None, description="Names the device model if it is new")


@strawberry.input(description="What an amendment changes; an omitted field keeps its value, null clears it.")
class AmendFirmwareReleaseInput:
    release_notes: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 20000 characters"
    )
    urgency: Urgency | None = strawberry.UNSET
    advisories: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the advisories (null or [] clears them)"
    )
    upgradable_from: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the upgrade sources; checked as a submission's are (null or [] clears them)",
    )
    reason: str | None = strawberry.field(default=None, description="Why, for the revision history")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="PUBLISHED at once when a Current CPL entry has this identity and hash; else SUBMITTED.",
    )
    async def submit_firmware_release(self, info: Ctx, input: SubmitFirmwareReleaseInput) -> FirmwareRelease:
        row = await publishing.submit(info.context, _submission(input))
        return FirmwareRelease.from_row(row)

    @strawberry.mutation(description="Keeps the record as WITHDRAWN; repeating it is harmless.")
    async def withdraw_firmware_release(self, info: Ctx, id: strawberry.ID, reason: str) -> FirmwareRelease:
        return FirmwareRelease.from_row(await publishing.withdraw(info.context, str(id), reason))

    @strawberry.mutation(
        description="Changes notes, urgency, advisories or upgrade sources; same id, every revision kept."
    )
    async def amend_firmware_release(
        self, info: Ctx, id: strawberry.ID, input: AmendFirmwareReleaseInput
    ) -> FirmwareRelease:
        return FirmwareRelease.from_row(await amendments.amend(info.context, str(id), _amendment(input)))

    @strawberry.mutation
    async def upsert_manufacturer(self, info: Ctx, input: ManufacturerInput) -> Manufacturer:
        row = await admin.upsert_manufacturer(info.context, input.manufacturer_id, input.name, input.website)
        return Manufacturer.from_row(row)

    @strawberry.mutation(description="Replaces the live contacts; old ones are kept as history.")
    async def set_contacts(
        self, info: Ctx, manufacturer_id: str, contacts: list[ContactInput]
    ) -> Manufacturer:
        wanted = [admin.ContactInput(c.role.value, c.name, c.email, c.phone) for c in contacts]
        return Manufacturer.from_row(await admin.set_contacts(info.context, manufacturer_id, wanted))

    @strawberry.mutation(description="Publishes the submissions waiting for this entry.")
    async def list_cpl_entry(self, info: Ctx, input: CplEntryInput) -> CplEntry:
        return CplEntry.from_row(await admin.list_cpl_entry(info.context, _cpl_entry(input)))

    @strawberry.mutation(description="Marks the entry REMOVED today; it is never deleted.")
    async def remove_cpl_entry(self, info: Ctx, number: int, reason: str) -> CplEntry:
        return CplEntry.from_row(await admin.remove_cpl_entry(info.context, number, reason))


_submission = from_rows.derive(
    publishing.SubmissionInput,
    SubmitFirmwareReleaseInput,
    converted={
        "urgency": from_rows.Nullable(attrgetter("value")),
        "advisories": tuple,
        "upgradable_from": tuple,
    },
)


def _amendment(i: AmendFirmwareReleaseInput) -> amendments.AmendmentInput:
    given = {name: getattr(i, name) is not strawberry.UNSET for name in ("release_notes", "urgency")}
    return amendments.AmendmentInput(
        reason=i.reason,
        release_notes=i.release_notes or None,
        clear_release_notes=given["release_notes"] and i.release_notes is None,
        urgency=i.urgency.value if i.urgency else None,
        clear_urgency=given["urgency"] and i.urgency is None,
        advisories=None if i.advisories is strawberry.UNSET else tuple(i.advisories or ()),
        upgradable_from=None if i.upgradable_from is strawberry.UNSET else tuple(i.upgradable_from or ()),
    )


_cpl_entry = from_rows.derive(
    admin.CplEntryInput,
    CplEntryInput,
    converted={"status": lambda status: status or CplStatus.CURRENT, "device_type": attrgetter("value")},
)
