"""Fleet checks: one status per distinct normalised identity, summary counts, malformed devices listed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from resolvers import devices
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.identity import Identity, identity_problem, normalise_identity

# (ref, manufacturerId, modelId, hardwareVersion, firmwareVersion) as the caller sent them
RawDevice = tuple[str | None, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Problem:
    index: int
    ref: str | None
    field: str
    message: str


@dataclass(slots=True)
class Group:
    identity: Identity
    count: int = 0
    refs: list[str] = field(default_factory=list)
    status: devices.DeviceStatus | None = None


@dataclass
class FleetResult:
    total: int
    groups: list[Group]
    problems: list[Problem]
    up_to_date: int = 0
    outdated: int = 0
    not_on_cpl: int = 0
    no_upgrade_path: int = 0
    # malformed devices: len(problems) for a request; a file check counts them without listing them here
    invalid: int = 0

    @property
    def distinct(self) -> int:
        return len(self.groups)


def group_devices(raw: Sequence[RawDevice]) -> tuple[list[Group], list[Problem]]:
    """Normalise and group in first-seen order; a malformed device becomes a problem, never an error."""
    groups: dict[tuple[str, str, str, str], Group] = {}
    problems: list[Problem] = []
    for index, (ref, *values) in enumerate(raw):
        m, mo, hw, fw = normalise_identity(values)
        if m is None or mo is None or hw is None or fw is None:
            name, message = identity_problem(values) or ("identity", "malformed")
            problems.append(Problem(index, ref, name, message))
            continue
        key = (m, mo, hw, fw)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(Identity(*key))
        group.count += 1
        if ref is not None:
            group.refs.append(ref)
    return list(groups.values()), problems


async def fleet_status(ctx: Context, raw: Sequence[RawDevice]) -> FleetResult:
    if len(raw) > ctx.limits.max_fleet_devices:
        raise BadUserInput(f"at most {ctx.limits.max_fleet_devices} devices per request", field="devices")
    groups, problems = group_devices(raw)
    result = FleetResult(total=len(raw), groups=groups, problems=problems, invalid=len(problems))
    await resolve(ctx, result)
    return result


async def resolve(ctx: Context, result: FleetResult) -> None:
    """Each group's status and the summary counts: the one rule for fleetStatus and file checks."""
    groups = result.groups
    statuses = await devices.device_statuses(ctx, [g.identity for g in groups])
    for group, status in zip(groups, statuses, strict=True):
        group.status = status
        count(result, group, status)


class Counts(Protocol):
    up_to_date: int
    outdated: int
    not_on_cpl: int
    no_upgrade_path: int


def count(result: Counts, group: Group, status: devices.DeviceStatus) -> None:
    """Add a group's devices to FleetStatus's counts (a fleet's, or one manufacturer's share of it)."""
    if not status.on_cpl:
        result.not_on_cpl += group.count
    analysis = status.analysis
    if analysis is None or analysis.is_latest is None:
        return  # unknown: the caller may not see the FIR, or the model has no published release
    if analysis.is_latest:
        result.up_to_date += group.count
    else:
        result.outdated += group.count
        if analysis.upgrade_path is None:
            result.no_upgrade_path += group.count
