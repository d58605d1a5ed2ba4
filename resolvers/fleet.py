"""Fleet checks: one status per distinct normalised identity, summary counts, malformed devices listed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from resolvers import devices
from resolvers.context import Context
from resolvers.devices import NOTHING, Prefetch
from resolvers.errors import BadUserInput
from resolvers.identity import Identity, identity_problem, normalise_identity

# (ref, manufacturerId, modelId, hardwareVersion, firmwareVersion) as the caller sent them
RawDevice = tuple[str | None, str, str, str, str]
# (manufacturerId, modelId, hardwareVersion, firmwareVersion) as the caller sent them
RawIdentity = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class FleetDevices:
    """A fleet as two columns: each device's reference, and its raw identity. Equal identities may
    share one tuple, so a million devices of a few thousand identities hold a few thousand tuples."""

    refs: list[str | None]
    identities: list[RawIdentity]

    @classmethod
    def of(cls, raw: Sequence[RawDevice]) -> FleetDevices:
        return cls([d[0] for d in raw], [d[1:] for d in raw])

    def __len__(self) -> int:
        return len(self.refs)


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


def group_devices(devices: FleetDevices) -> tuple[list[Group], list[Problem]]:
    """Normalise and group in first-seen order; a malformed device becomes a problem, never an error.

    Normalisation is a function of the raw identity alone, so it runs once per distinct raw identity;
    what is left per device is counting (in C) and filing its reference under its group.
    """
    groups: dict[Identity, Group] = {}
    identities = devices.identities
    outcomes = {raw: _outcome(raw, groups) for raw in dict.fromkeys(identities)}
    file_ref = {raw: o.refs.append for raw, o in outcomes.items() if type(o) is Group}
    for raw, n in Counter(identities).items():
        outcome = outcomes[raw]
        if type(outcome) is Group:
            outcome.count += n
    for ref, raw in zip(devices.refs, identities, strict=True):
        if ref is not None and raw in file_ref:
            file_ref[raw](ref)
    return list(groups.values()), _problems(devices, outcomes)


def _problems(devices: FleetDevices, outcomes: dict[RawIdentity, Group | tuple[str, str]]) -> list[Problem]:
    bad = {raw for raw, outcome in outcomes.items() if type(outcome) is not Group}
    if not bad:
        return []
    return [
        Problem(index, devices.refs[index], *outcomes[raw])  # type: ignore[misc]
        for index, raw in enumerate(devices.identities)
        if raw in bad
    ]


def _outcome(raw: RawIdentity, groups: dict[Identity, Group]) -> Group | tuple[str, str]:
    """The group of a raw identity (created on first sight), or its first malformed field and why."""
    m, mo, hw, fw = normalise_identity(raw)
    if m is None or mo is None or hw is None or fw is None:
        return identity_problem(raw) or ("identity", "malformed")
    identity = Identity(m, mo, hw, fw)
    group = groups.get(identity)
    if group is None:
        group = groups[identity] = Group(identity)
    return group


Grouped = tuple[list[Group], list[Problem]]
# How group_devices runs: in place by default; the schema hands a long fleet to a thread (schema.offload)
Runner = Callable[[Callable[[], Grouped]], Awaitable[Grouped]]


async def in_place(work: Callable[[], Grouped]) -> Grouped:
    return work()


async def fleet_status(
    ctx: Context, devices: FleetDevices, prefetch: Prefetch = NOTHING, run: Runner = in_place
) -> FleetResult:
    if len(devices) > ctx.limits.max_fleet_devices:
        raise BadUserInput(f"at most {ctx.limits.max_fleet_devices} devices per request", field="devices")
    groups, problems = await run(partial(group_devices, devices))
    result = FleetResult(total=len(devices), groups=groups, problems=problems, invalid=len(problems))
    await resolve(ctx, result, prefetch)
    return result


async def resolve(ctx: Context, result: FleetResult, prefetch: Prefetch = NOTHING) -> None:
    """Each group's status and the summary counts: the one rule for fleetStatus and file checks."""
    groups = result.groups
    statuses = await devices.device_statuses(ctx, [g.identity for g in groups], prefetch)
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
