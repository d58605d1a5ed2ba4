"""SECAS's reports as fields: Current entries with no FIR record, blocked submissions, missing firmware contacts."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from loaders.reports import BlockedRow
from resolvers import reports
from resolvers.context import Context
from schema.catalogue import CplEntry, Manufacturer
from schema.enums import BlockedReason
from schema.releases import FirmwareRelease

Ctx = Info[Context, Any]


@strawberry.type(description="A SUBMITTED release that cannot publish, and why.")
class BlockedSubmission:
    release: FirmwareRelease
    reason: BlockedReason
    cpl_entry_number: int | None = strawberry.field(
        description="The entry its identity matches (a Current one first); null for NO_MATCHING_ENTRY."
    )

    @classmethod
    def from_row(cls, row: BlockedRow) -> BlockedSubmission:
        return cls(
            release=FirmwareRelease.from_row(row.release),
            reason=BlockedReason(row.reason),
            cpl_entry_number=row.entry_number,
        )


async def unrecorded_cpl_entries(info: Ctx) -> list[CplEntry]:
    return [CplEntry.from_row(r) for r in await reports.unrecorded_entries(info.context.loaders.db)]


async def blocked_submissions(info: Ctx) -> list[BlockedSubmission]:
    return [BlockedSubmission.from_row(r) for r in await reports.blocked_submissions(info.context.loaders.db)]


async def manufacturers_without_firmware_contact(info: Ctx) -> list[Manufacturer]:
    found = await reports.manufacturers_without_firmware_contact(info.context.loaders.db)
    return [Manufacturer.from_row(r) for r in found]
