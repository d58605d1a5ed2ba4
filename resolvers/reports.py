"""SECAS's reports: what the CPL lists that the FIR lacks, what cannot publish and why, who has no firmware contact."""

from __future__ import annotations

from dataclasses import dataclass

from loaders import reports
from loaders.db import Db
from loaders.reports import BlockedRow
from loaders.rows import CplEntryRow, ManufacturerRow


@dataclass(frozen=True, slots=True)
class SecasReport:
    unrecorded_entries: list[CplEntryRow]
    blocked_submissions: list[BlockedRow]
    manufacturers_without_firmware_contact: list[ManufacturerRow]


async def secas_report(db: Db) -> SecasReport:
    """All three at once, for `fir report`; the GraphQL fields ask for them one by one."""
    return SecasReport(
        await reports.unrecorded_entries(db),
        await reports.blocked_submissions(db),
        await reports.manufacturers_without_firmware_contact(db),
    )


async def unrecorded_entries(db: Db) -> list[CplEntryRow]:
    return await reports.unrecorded_entries(db)


async def blocked_submissions(db: Db) -> list[BlockedRow]:
    return await reports.blocked_submissions(db)


async def manufacturers_without_firmware_contact(db: Db) -> list[ManufacturerRow]:
    return await reports.manufacturers_without_firmware_contact(db)
