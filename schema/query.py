"""The Query root: the SPEC contract's read entry points."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from loaders.releases import ReleaseSearch
from resolvers import catalogue, devices, fleet, log_proofs, release_search
from resolvers import releases as release_rules
from resolvers.context import Context
from resolvers.identity import parse_identity
from schema import reports
from schema.audit import AuditEvent, audit_log
from schema.catalogue import CplEntry, DeviceModel, Manufacturer
from schema.changes import ChangeEvent, changes
from schema.cpl_issues import CplIssue, cpl_issue, cpl_issues
from schema.devices import DeviceFirmwareStatus, DeviceIdentityInput, FleetStatus, alone, prefetch_of
from schema.enums import CplStatus, DeviceType, ReleaseStatus, Urgency
from schema.fleet_input import fleet_devices
from schema.offload import off_loop
from schema.pagination import PAGED, Connection, connection
from schema.releases import FirmwareRelease
from schema.reports import BlockedSubmission
from schema.sifted import LONG_LIST
from schema.sizes import CPL_ISSUES, FLEET_DEVICE, REPORT_ROWS
from schema.transparency import LogConsistency

Ctx = Info[Context, Any]


@strawberry.type
class Query:
    @strawberry.field(
        description="One device's CPL entry, firmware lineage, latest release and upgrade path."
    )
    async def device(self, info: Ctx, identity: DeviceIdentityInput) -> DeviceFirmwareStatus:
        parsed = parse_identity(
            identity.manufacturer_id,
            identity.model_id,
            identity.hardware_version,
            identity.firmware_version,
            prefix="identity.",
        )
        # through the request's device batch: several device fields (aliases) share one statement;
        # the operation's only one needs no batching window
        status = await devices.device_status(info.context, parsed, prefetch_of(info), alone=alone(info))
        return DeviceFirmwareStatus.from_status(status)

    @strawberry.field(description="The same for a whole fleet: one status per distinct identity.")
    async def fleet_status(
        self, info: Ctx, devices: Annotated[JSON, strawberry.argument(directives=[FLEET_DEVICE])]
    ) -> FleetStatus:
        # `devices` is [FleetDeviceInput!]! in the schema (see schema.fleet_input): every item is checked
        # against it, and strawberry's per-object conversion is skipped for speed.
        raw = fleet_devices(devices)
        prefetch = prefetch_of(info, ("groups", "status"))
        # grouping a long fleet passes over every device: on a thread, the loop keeps serving
        run = off_loop if len(raw) >= LONG_LIST else fleet.in_place
        return FleetStatus.from_result(await fleet.fleet_status(info.context, raw, prefetch, run))

    @strawberry.field
    async def manufacturer(self, info: Ctx, manufacturer_id: str) -> Manufacturer | None:
        row = await catalogue.manufacturer(info.context, manufacturer_id)
        return Manufacturer.from_row(row) if row else None

    @strawberry.field(directives=[PAGED])
    async def manufacturers(
        self, info: Ctx, first: int | None = None, after: str | None = None
    ) -> Connection[Manufacturer]:
        page = await catalogue.manufacturers_page(info.context, first, after)
        return connection(page, Manufacturer.from_row)

    @strawberry.field(directives=[PAGED])
    async def device_models(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        manufacturer_id: str | None = None,
        device_type: DeviceType | None = None,
    ) -> Connection[DeviceModel]:
        page = await catalogue.models_page(
            info.context, first, after, manufacturer_id, device_type.value if device_type else None
        )
        return connection(page, DeviceModel.from_row)

    @strawberry.field
    async def cpl_entry(self, info: Ctx, number: int) -> CplEntry | None:
        row = await catalogue.cpl_entry(info.context, number)
        return CplEntry.from_row(row) if row else None

    @strawberry.field(directives=[PAGED])
    async def cpl_entries(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        status: CplStatus | None = None,
        manufacturer_id: str | None = None,
    ) -> Connection[CplEntry]:
        page = await catalogue.cpl_entries_page(
            info.context, first, after, status.value if status else None, manufacturer_id
        )
        return connection(page, CplEntry.from_row)

    @strawberry.field(
        directives=[PAGED],
        description="Release search, newest first: only the releases the caller may see; every filter optional.",
    )
    async def firmware_releases(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        manufacturer_id: str | None = None,
        model_id: str | None = None,
        device_type: DeviceType | None = None,
        status: ReleaseStatus | None = None,
        urgency: Urgency | None = None,
        advisory: Annotated[
            str | None, strawberry.argument(description="e.g. CVE-2026-31001, exactly")
        ] = None,
        published_since: dt.datetime | None = None,
    ) -> Connection[FirmwareRelease]:
        where = ReleaseSearch(
            manufacturer_id=manufacturer_id,
            model_id=model_id,
            device_type=device_type.value if device_type else None,
            status=status.value if status else None,
            urgency=urgency.value if urgency else None,
            advisory=advisory,
            published_since=published_since,
        )
        page = await release_search.search(info.context, first, after, where)
        return connection(page, FirmwareRelease.from_row)

    @strawberry.field(description="Proof that the log of size `to` extends the log of size `from`.")
    async def log_consistency(
        self, info: Ctx, from_: Annotated[int, strawberry.argument(name="from")], to: int
    ) -> LogConsistency | None:
        found = await log_proofs.consistency_of(info.context, from_, to)
        return LogConsistency.from_proof(found) if found else None

    @strawberry.field
    async def firmware_release(self, info: Ctx, id: strawberry.ID) -> FirmwareRelease | None:
        row = await release_rules.release(info.context, str(id))
        return FirmwareRelease.from_row(row) if row else None

    cpl_issues: list[CplIssue] = strawberry.field(
        resolver=cpl_issues,
        directives=[CPL_ISSUES],
        description="Every CPL issue imported or listed, oldest first.",
    )
    cpl_issue: CplIssue | None = strawberry.field(
        resolver=cpl_issue, description="One CPL issue by number (2.051, or the whole Version cell)."
    )

    changes: Connection[ChangeEvent] = strawberry.field(
        resolver=changes,
        directives=[PAGED],
        description="The durable change feed, oldest first after a stored cursor; each event as visible as its record.",
    )

    unrecorded_cpl_entries: list[CplEntry] = strawberry.field(
        resolver=reports.unrecorded_cpl_entries,
        directives=[REPORT_ROWS],
        description="SECAS: Current CPL entries that no published release records, by manufacturer then number.",
    )
    blocked_submissions: list[BlockedSubmission] = strawberry.field(
        resolver=reports.blocked_submissions,
        directives=[REPORT_ROWS],
        description="SECAS: submissions that cannot publish (no matching entry, another hash, entry Removed).",
    )
    manufacturers_without_firmware_contact: list[Manufacturer] = strawberry.field(
        resolver=reports.manufacturers_without_firmware_contact,
        directives=[REPORT_ROWS],
        description="SECAS: manufacturers with no live FIRMWARE contact.",
    )

    audit_log: Connection[AuditEvent] = strawberry.field(
        resolver=audit_log,
        directives=[PAGED],
        description="Every change to the FIR, newest first (fir:admin).",
    )
