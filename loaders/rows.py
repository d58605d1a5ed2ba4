"""Rows as they leave loaders/: frozen dataclasses, never asyncpg.Record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from loaders.frozen import frozen
from loaders.vocabulary import is_public_release


@frozen
class ManufacturerRow:
    manufacturer_id: str
    name: str
    website: str | None


@frozen
class ContactRow:
    manufacturer_id: str
    role: str
    name: str | None
    email: str | None
    phone: str | None


@frozen
class ModelRow:
    manufacturer_id: str
    model_id: str
    name: str | None
    device_type: str


@frozen
class CplFacts:
    """What the CPL states of one entry, normalised: the columns of its workbook, one fact each.

    The rows that carry an entry add to these and never copy them: the entry as stored
    (CplEntryRow), as read from a workbook or given to listCplEntry (CplRow), as exported
    (loaders.fir_export.FirExportRow).
    """

    number: int
    status: str
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    device_type: str
    smets_chts_version: str | None
    gbcs_version: str | None
    image_hash: str
    cpl_version: str | None


@frozen
class CplEntryRow(CplFacts):
    listed_on: dt.date | None
    removed_on: dt.date | None


@frozen
class CplRow(CplFacts):
    """One good CPL row to stage: upper-case hex of fixed width, enum codes, trimmed text."""

    row_number: int  # as a spreadsheet numbers it: 1-based, header included

    @property
    def identity_key(self) -> str:
        return self.manufacturer_id + self.model_id + self.hardware_version + self.firmware_version


@frozen
class ReleaseRow:
    id: int
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    status: str
    cpl_entry_number: int | None
    cpl_status: str | None
    release_date: dt.date | None
    release_notes: str | None
    urgency: str | None
    advisories: tuple[str, ...]
    upgradable_from: tuple[str, ...]
    submitted_by: str | None
    submitted_org: str | None
    submitted_at: dt.datetime
    published_at: dt.datetime | None
    published_by: str | None
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str | None

    @property
    def model_key(self) -> tuple[str, str, str]:
        return (self.manufacturer_id, self.model_id, self.hardware_version)

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.manufacturer_id, self.model_id, self.hardware_version, self.firmware_version)

    @property
    def is_public(self) -> bool:
        """Published, or published and then withdrawn: the FIR's, not only its manufacturer's."""
        return is_public_release(self.status, self.published_at)


@frozen
class CplIssueRow:
    number: str
    title: str
    issued_on: dt.date


@frozen
class RevisionRow:
    """One revision of a release's amendable facts; revision 1 is the release as submitted."""

    release_id: int
    revision: int
    release_notes: str | None
    urgency: str | None
    advisories: tuple[str, ...]
    upgradable_from: tuple[str, ...]
    revised_at: dt.datetime
    revised_by: str | None
    reason: str | None


@frozen
class AuditEventRow:
    id: int
    occurred_at: dt.datetime
    actor: str
    organisation: str | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any


def manufacturer(r: asyncpg.Record) -> ManufacturerRow:
    return ManufacturerRow(r["manufacturer_id"], r["name"], r["website"])


def contact(r: asyncpg.Record) -> ContactRow:
    return ContactRow(r["manufacturer_id"], r["role"], r["name"], r["email"], r["phone"])


def model(r: asyncpg.Record) -> ModelRow:
    return ModelRow(r["manufacturer_id"], r["model_id"], r["name"], r["device_type"])


def cpl_entry(r: asyncpg.Record) -> CplEntryRow:
    return CplEntryRow(
        r["number"],
        r["status"],
        r["manufacturer_id"],
        r["model_id"],
        r["hardware_version"],
        r["firmware_version"],
        r["device_type"],
        r["smets_chts_version"],
        r["gbcs_version"],
        r["image_hash"],
        r["cpl_version"],
        r["listed_on"],
        r["removed_on"],
    )


def release(r: asyncpg.Record) -> ReleaseRow:
    return ReleaseRow(
        r["id"],
        r["manufacturer_id"],
        r["model_id"],
        r["hardware_version"],
        r["firmware_version"],
        r["image_hash"],
        r["status"],
        r["cpl_entry_number"],
        r["cpl_status"],
        r["release_date"],
        r["release_notes"],
        r["urgency"],
        tuple(r["advisories"]),
        tuple(r["upgradable_from"]),
        r["submitted_by"],
        r["submitted_org"],
        r["submitted_at"],
        r["published_at"],
        r["published_by"],
        r["withdrawn_at"],
        r["withdrawn_reason"],
    )


def cpl_issue(r: asyncpg.Record) -> CplIssueRow:
    return CplIssueRow(r["number"], r["title"], r["issued_on"])


def revision(r: asyncpg.Record) -> RevisionRow:
    return RevisionRow(
        r["release_id"],
        r["revision"],
        r["release_notes"],
        r["urgency"],
        tuple(r["advisories"]),
        tuple(r["upgradable_from"]),
        r["revised_at"],
        r["revised_by"],
        r["reason"],
    )


def audit_event(r: asyncpg.Record) -> AuditEventRow:
    return AuditEventRow(
        r["id"],
        r["occurred_at"],
        r["actor"],
        r["organisation"],
        r["action"],
        r["entity_type"],
        r["entity_id"],
        r["before"],
        r["after"],
    )
