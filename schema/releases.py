"""Firmware releases: the FIR records manufacturers publish for CPL entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import strawberry
from strawberry.types import Info

from loaders.rows import CplEntryRow, ReleaseRow, RevisionRow
from loaders.vocabulary import EntityType
from resolvers import log_proofs
from resolvers import releases as rules
from resolvers.context import Context
from schema import from_rows
from schema.catalogue import CplEntry, DeviceModel, Manufacturer, manufacturer_of, model_of
from schema.enums import ReleaseStatus, Urgency
from schema.loaded import loaded
from schema.sizes import REVISIONS, UPGRADE_EDGES
from schema.transparency import LogProof

Ctx = Info[Context, Any]


@strawberry.type(
    description="One revision of a release's amendable facts; revision 1 is the release as submitted."
)
class FirmwareReleaseRevision:
    revision: int
    release_notes: str | None
    urgency: Urgency | None
    advisories: list[str]
    upgradable_from_versions: list[str]
    revised_at: dt.datetime
    reason: str | None = strawberry.field(description="Why it was amended, as its author said")
    from_row: ClassVar[Callable[[RevisionRow], FirmwareReleaseRevision]]


FirmwareReleaseRevision.from_row = from_rows.derive(
    FirmwareReleaseRevision,
    RevisionRow,
    renamed={"upgradable_from_versions": "upgradable_from"},
    converted={"urgency": from_rows.Nullable(Urgency), "advisories": list, "upgradable_from_versions": list},
)


@strawberry.federation.type(keys=["id"], description="The FIR record of one firmware version.")
class FirmwareRelease:
    id: strawberry.ID
    manufacturer_id: str
    model_id: str
    version: str = strawberry.field(description="The firmware version, 8 hex digits.")
    hardware_version: str
    image_hash: str
    release_date: dt.date | None
    status: ReleaseStatus
    release_notes: str | None
    urgency: Urgency | None
    advisories: list[str] = strawberry.field(description="Security advisories, e.g. CVE identifiers.")
    cpl_entry_number: int | None
    submitted_at: dt.datetime
    published_at: dt.datetime | None
    published_by: str | None = strawberry.field(description="Who published it (token subject).")
    submitted_by: str | None
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str | None
    row: strawberry.Private[ReleaseRow]
    from_row: ClassVar[Callable[[ReleaseRow], FirmwareRelease]]

    @strawberry.field(
        graphql_type=list[str],
        description="Firmware versions (same model and hardware) that may upgrade to this one, as far as"
        " the caller may see them.",
    )
    def upgradable_from_versions(self, info: Ctx) -> list[str] | Awaitable[list[str]]:
        # at once from rows the request holds, else an awaitable (both executors await one)
        return rules.upgradable_from_versions(info.context, self.row)

    @strawberry.field(
        directives=[UPGRADE_EDGES],
        description="Published releases that may upgrade to this one, oldest first.",
    )
    async def upgradable_from(self, info: Ctx) -> list[FirmwareRelease]:
        return [FirmwareRelease.from_row(r) for r in await rules.upgradable_from(info.context, self.row)]

    @strawberry.field(
        directives=[UPGRADE_EDGES], description="Published releases this one may upgrade to, oldest first."
    )
    async def upgrades_to(self, info: Ctx) -> list[FirmwareRelease]:
        return [FirmwareRelease.from_row(r) for r in await rules.upgrades_to(info.context, self.row)]

    @strawberry.field(
        directives=[REVISIONS],
        description="Every revision, oldest first; the last is the release as it is now.",
    )
    async def revisions(self, info: Ctx) -> list[FirmwareReleaseRevision]:
        return [FirmwareReleaseRevision.from_row(r) for r in await rules.revisions(info.context, self.row)]

    @strawberry.field(
        description="Proof that the release as it is now is in the signed log; null until signed."
    )
    async def proof(self, info: Ctx) -> LogProof | None:
        found = await log_proofs.proof_of(info.context, EntityType.FIRMWARE_RELEASE, str(self.row.id))
        return LogProof.from_proof(found) if found else None

    @strawberry.field(graphql_type=CplEntry | None)
    def cpl_entry(self, info: Ctx) -> CplEntry | Awaitable[CplEntry | None] | None:
        number = self.row.cpl_entry_number
        if number is None:
            return None
        # a device query prefetches its releases' entries when selected
        return loaded(info.context.loaders.cpl_entry_by_number, number, _cpl_entry)

    @strawberry.field(graphql_type=DeviceModel)
    def model(self, info: Ctx) -> DeviceModel | Awaitable[DeviceModel]:
        return model_of(info, self.manufacturer_id, self.model_id)

    @strawberry.field(graphql_type=Manufacturer)
    def manufacturer(self, info: Ctx) -> Manufacturer | Awaitable[Manufacturer]:
        return manufacturer_of(info, self.manufacturer_id)

    @classmethod
    async def resolve_reference(cls, info: Ctx, id: strawberry.ID) -> FirmwareRelease | None:
        row = await rules.release(info.context, str(id))
        return cls.from_row(row) if row else None


FirmwareRelease.from_row = from_rows.derive(
    FirmwareRelease,
    ReleaseRow,
    renamed={"version": "firmware_version"},
    converted={
        "id": (str, strawberry.ID),
        "status": ReleaseStatus,
        "urgency": from_rows.Nullable(Urgency),
        "advisories": list,
    },
)


def _cpl_entry(row: CplEntryRow | None) -> CplEntry | None:
    return CplEntry.from_row(row) if row else None


def releases(rows: list[ReleaseRow]) -> list[FirmwareRelease]:
    return [FirmwareRelease.from_row(r) for r in rows]
