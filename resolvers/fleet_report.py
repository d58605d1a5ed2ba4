"""Fleet checks from a file: its distinct raw identities resolved by fleetStatus's own rules, and the report's tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loaders.rows import ContactRow, ReleaseRow
from resolvers import fleet
from resolvers.context import Context
from resolvers.cpl_codes import SCIENTIFIC_REASON, scientific
from resolvers.devices import DeviceStatus
from resolvers.identity import FIELDS, Identity, identity_problem, normalise_identity
from resolvers.visibility import can_see_fir_of

# the four identity fields as the file wrote them (manufacturer, model, hardware, firmware)
RawIdentity = tuple[str, str, str, str]
PATH_SEPARATOR = " > "

# one device's status in the report, one word; the summary's counts are FleetStatus's (they overlap)
UP_TO_DATE, OUTDATED, NO_UPGRADE_PATH, UNKNOWN, INVALID = (
    "up_to_date",
    "outdated",
    "no_upgrade_path",
    "unknown",
    "invalid",
)


@dataclass(frozen=True, slots=True)
class RawGroup:
    """One distinct raw identity of the file: how many rows carry it, and the first of them."""

    values: RawIdentity
    count: int
    first_row: int
    # the file's own cells these values came from (the edge joins the outcome back on them)
    key: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the report says of every device whose row carries `key` (the RawGroup's)."""

    key: tuple[object, ...]
    identity: Identity | None
    status: str
    on_cpl: bool | None = None
    cpl_entry: int | None = None
    is_latest: bool | None = None
    latest_version: str | None = None
    latest_cpl_entry: int | None = None
    upgrade_path: str | None = None
    upgrade_steps: int | None = None
    problem_field: str | None = None
    problem: str | None = None


@dataclass(slots=True)
class ManufacturerCount:
    manufacturer_id: str
    name: str | None = None
    devices: int = 0
    up_to_date: int = 0
    outdated: int = 0
    not_on_cpl: int = 0
    no_upgrade_path: int = 0
    firmware_contact: str | None = None


@dataclass(slots=True)
class CampaignStep:
    """One image to stage for a model and hardware version, and how many devices pass through it."""

    manufacturer_id: str
    model_id: str
    hardware_version: str
    step: int
    firmware_version: str
    cpl_entry: int | None
    image_hash: str
    devices: int = 0


@dataclass
class FleetReport:
    result: fleet.FleetResult
    outcomes: list[Outcome]
    manufacturers: list[ManufacturerCount] = field(default_factory=list)
    campaign: list[CampaignStep] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """FleetStatus's names and counts."""
        r = self.result
        return {
            "total": r.total,
            "distinct": r.distinct,
            "upToDate": r.up_to_date,
            "outdated": r.outdated,
            "notOnCpl": r.not_on_cpl,
            "noUpgradePath": r.no_upgrade_path,
            "invalid": r.invalid,
        }


async def check_fleet(ctx: Context, raw_groups: Sequence[RawGroup], total: int) -> FleetReport:
    """Normalise each distinct raw identity once (the shared normaliser), group in first-seen order
    exactly as fleetStatus does, and resolve the groups with fleetStatus's own rule."""
    ordered = sorted(raw_groups, key=lambda g: g.first_row)
    groups: dict[Identity, fleet.Group] = {}
    keyed: list[tuple[RawGroup, Identity | None, tuple[str, str] | None]] = []
    invalid = 0
    for raw in ordered:
        identity, problem = _normalised(raw.values)
        keyed.append((raw, identity, problem))
        if identity is None:
            invalid += raw.count
            continue
        group = groups.get(identity) or groups.setdefault(identity, fleet.Group(identity))
        group.count += raw.count
    result = fleet.FleetResult(total=total, groups=list(groups.values()), problems=[], invalid=invalid)
    await fleet.resolve(ctx, result)
    statuses = {g.identity: g.status for g in result.groups if g.status is not None}
    outcomes = [_outcome(raw.key, identity, problem, statuses) for raw, identity, problem in keyed]
    report = FleetReport(result, outcomes, campaign=campaign_plan(result.groups))
    report.manufacturers = await manufacturer_counts(ctx, result.groups)
    return report


def _normalised(values: RawIdentity) -> tuple[Identity | None, tuple[str, str] | None]:
    if problem := _scientific(values):
        return None, problem
    m, mo, hw, fw = normalise_identity(values)
    if m is None or mo is None or hw is None or fw is None:
        return None, identity_problem(values) or ("identity", "malformed")
    return Identity(m, mo, hw, fw), None


def _scientific(values: RawIdentity) -> tuple[str, str] | None:
    """A code a workbook holds as a number in scientific notation (read as shown, 1.00E+05; a csv
    printed from such a cell says the same) is refused as the CPL import refuses it: padded, the
    00001E05 typed would be checked as firmware 00100000. fleetStatus finds such text malformed too."""
    for (name, _, _), value in zip(FIELDS, values, strict=True):
        if scientific(value):
            return name, f"{name}: {SCIENTIFIC_REASON.format(shown=value.strip())}"
    return None


def _outcome(
    values: tuple[object, ...],
    identity: Identity | None,
    problem: tuple[str, str] | None,
    statuses: dict[Identity, DeviceStatus],
) -> Outcome:
    if identity is None or problem is not None:
        name, message = problem or ("identity", "malformed")
        return Outcome(values, None, INVALID, problem_field=name, problem=message)
    status = statuses[identity]
    analysis = status.analysis
    entry = status.cpl_entry.number if status.cpl_entry is not None else None
    if analysis is None or analysis.latest is None:
        return Outcome(values, identity, UNKNOWN, status.on_cpl, entry)
    path = analysis.upgrade_path
    return Outcome(
        values,
        identity,
        device_status(analysis.is_latest, path),
        status.on_cpl,
        entry,
        analysis.is_latest,
        analysis.latest.firmware_version,
        analysis.latest.cpl_entry_number,
        None if path is None else PATH_SEPARATOR.join(r.firmware_version for r in path),
        None if path is None else len(path),
    )


def device_status(is_latest: bool | None, path: list[ReleaseRow] | None) -> str:
    if is_latest is None:
        return UNKNOWN
    if is_latest:
        return UP_TO_DATE
    return OUTDATED if path is not None else NO_UPGRADE_PATH


def campaign_plan(groups: Sequence[fleet.Group]) -> list[CampaignStep]:
    """Per model and hardware version, each image on any device's path once, in listing order (the
    order upgrade edges run), with the number of devices that must pass through it."""
    steps: dict[tuple[tuple[str, str, str], int], CampaignStep] = {}
    for group in groups:
        analysis = group.status.analysis if group.status is not None else None
        for release in (analysis.upgrade_path or []) if analysis is not None else []:
            key = (release.model_key, release.id)
            step = steps.get(key) or steps.setdefault(key, _step(release))
            step.devices += group.count
    ordered = sorted(steps.values(), key=_listing_order)
    return _numbered(ordered)


def _step(release: ReleaseRow) -> CampaignStep:
    return CampaignStep(
        release.manufacturer_id,
        release.model_id,
        release.hardware_version,
        0,
        release.firmware_version,
        release.cpl_entry_number,
        release.image_hash,
    )


def _listing_order(step: CampaignStep) -> tuple[str, str, str, bool, int, str]:
    entry = step.cpl_entry
    return (
        step.manufacturer_id,
        step.model_id,
        step.hardware_version,
        entry is None,
        entry or 0,
        step.firmware_version,
    )


def _numbered(steps: list[CampaignStep]) -> list[CampaignStep]:
    model: tuple[str, str, str] | None = None
    number = 0
    for step in steps:
        here = (step.manufacturer_id, step.model_id, step.hardware_version)
        number = number + 1 if here == model else 1
        step.step, model = number, here
    return steps


async def manufacturer_counts(ctx: Context, groups: Sequence[fleet.Group]) -> list[ManufacturerCount]:
    """FleetStatus's counts per manufacturer, with the firmware contact to call (fir:read)."""
    counts: dict[str, ManufacturerCount] = {}
    for group in groups:
        mid = group.identity.manufacturer_id
        row = counts.get(mid) or counts.setdefault(mid, ManufacturerCount(mid))
        _add(row, group)
    visible = [mid for mid in counts if can_see_fir_of(ctx.principal, mid)]  # contacts are FIR records
    contacts = await ctx.loaders.contacts_by_manufacturer.load_many(visible)
    for mid, found in zip(visible, contacts, strict=True):
        counts[mid].firmware_contact = firmware_contact(found)
    return sorted(counts.values(), key=lambda c: c.manufacturer_id)


def _add(row: ManufacturerCount, group: fleet.Group) -> None:
    if group.status is None:
        return
    if group.status.manufacturer is not None:
        row.name = group.status.manufacturer.name
    row.devices += group.count
    fleet.count(row, group, group.status)


def firmware_contact(contacts: Sequence[ContactRow]) -> str | None:
    """`name <email> phone` of the firmware contact, as the FIR export prints it."""
    for contact in contacts:
        if contact.role.upper() == "FIRMWARE":
            parts = [contact.name, f"<{contact.email}>" if contact.email else None, contact.phone]
            return " ".join(p for p in parts if p) or None
    return None
