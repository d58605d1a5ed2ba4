"""A device's firmware status, for one device or a whole fleet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.types import Info

from resolvers import devices as rules
from resolvers.context import Context
from resolvers.fleet import FleetResult
from resolvers.identity import FIELDS as IDENTITY_FIELDS
from resolvers.identity import Identity, parse_identity
from schema import from_rows
from schema.catalogue import Contact, CplEntry, DeviceModel, Manufacturer, contacts_of
from schema.releases import FirmwareRelease, releases
from schema.remembered import Remembered
from schema.selections import fields_of
from schema.sizes import CONTACTS, FLEET_GROUPS, FLEET_PROBLEMS, LINEAGE, UPGRADE_PATH

Ctx = Info[Context, Any]
_Nodes = tuple[FieldNode, ...]

# A supplier's asset graph holds the four identity fields of each meter: that is the key.
IDENTITY_KEY = "identity { " + " ".join(field for field, _, _ in IDENTITY_FIELDS) + " }"


@strawberry.input(description="A device as it reports itself; hex in any case, surrounding spaces ignored.")
class DeviceIdentityInput:
    manufacturer_id: str = strawberry.field(description="4 hex digits (ZigBee manufacturer code)")
    model_id: str = strawberry.field(description="4 hex digits")
    hardware_version: str = strawberry.field(
        description='4 hex digits: version then revision octet, e.g. "00AC"'
    )
    firmware_version: str = strawberry.field(
        description='8 hex digits; also as the CPL writes them: "0x124074DA", "12.40.74.DA", "3030236"'
    )


@strawberry.federation.type(
    shareable=True, description="A normalised device identity (upper-case hex); other graphs hold it too."
)
class DeviceIdentity:
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    from_identity: ClassVar[Callable[[Identity], DeviceIdentity]]


DeviceIdentity.from_identity = from_rows.derive(DeviceIdentity, Identity)


@strawberry.federation.type(
    keys=[IDENTITY_KEY],
    description="Whether a device's firmware is the latest, how to get there and whom to ask.",
)
class DeviceFirmwareStatus:
    identity: DeviceIdentity
    on_cpl: bool = strawberry.field(description="A Current CPL entry exists for exactly this identity.")
    cpl_entry: CplEntry | None
    model: DeviceModel | None
    manufacturer: Manufacturer | None
    status: strawberry.Private[rules.DeviceStatus]

    @classmethod
    def from_status(cls, s: rules.DeviceStatus) -> DeviceFirmwareStatus:
        return cls(
            identity=DeviceIdentity.from_identity(s.identity),
            on_cpl=s.on_cpl,
            cpl_entry=CplEntry.from_row(s.cpl_entry) if s.cpl_entry else None,
            model=DeviceModel.from_row(s.model) if s.model else None,
            manufacturer=Manufacturer.from_row(s.manufacturer) if s.manufacturer else None,
            status=s,
        )

    @classmethod
    async def resolve_reference(cls, info: Ctx, identity: dict[str, str]) -> DeviceFirmwareStatus:
        """Another graph's device: the same normalisation as device(identity:), batched per request."""
        parsed = parse_identity(*(identity.get(field) for field, _, _ in IDENTITY_FIELDS), prefix="identity.")
        return cls.from_status(await rules.device_status(info.context, parsed, prefetch_of(info)))

    @property
    def _analysis(self) -> rules.Analysis:
        # computed with the status for any caller the guards let through (see device_statuses)
        assert self.status.analysis is not None
        return self.status.analysis

    @strawberry.field(description="The FIR record for this firmware.")
    def current(self) -> FirmwareRelease | None:
        found = self._analysis.current
        return FirmwareRelease.from_row(found) if found else None

    @strawberry.field(
        description="The newest published release on a Current CPL entry, same model and hardware version.",
    )
    def latest(self) -> FirmwareRelease | None:
        found = self._analysis.latest
        return FirmwareRelease.from_row(found) if found else None

    @strawberry.field(description="Null when unknown.")
    def is_latest(self) -> bool | None:
        return self._analysis.is_latest

    @strawberry.field(
        directives=[UPGRADE_PATH],
        description="Fewest steps from current to latest along upgradable-from edges, current excluded, "
        "latest included; [] when latest; null when no path exists.",
    )
    def upgrade_path(self) -> list[FirmwareRelease] | None:
        found = self._analysis.upgrade_path
        return None if found is None else releases(found)

    @strawberry.field(
        directives=[LINEAGE],
        description="Every published release of this model and hardware version, oldest first.",
    )
    def lineage(self) -> list[FirmwareRelease]:
        return releases(self._analysis.lineage)

    @strawberry.field(
        graphql_type=list[Contact] | None, directives=[CONTACTS], description="The manufacturer's contacts."
    )
    def contacts(self, info: Ctx) -> list[Contact] | Awaitable[list[Contact] | None] | None:
        return contacts_of(info, self.status.identity.manufacturer_id)


@strawberry.input(
    description="One device of a fleet: the four identity fields plus the caller's own reference."
)
class FleetDeviceInput:
    ref: str | None = None
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str


@strawberry.type
class FleetProblem:
    index: int
    ref: str | None
    field: str
    message: str


@strawberry.type
class FleetGroup:
    count: int
    refs: list[str]
    status: DeviceFirmwareStatus


@strawberry.type(
    description="A fleet's firmware status: one group per distinct identity, in first-seen order."
)
class FleetStatus:
    total: int
    distinct: int
    # Counted from the FIR, so guarded like the fields they summarise (schema.access). Nullable because a non-null
    # field cannot carry FORBIDDEN without nulling the whole fleetStatus; an anonymous caller gets
    # null and the error, never a misleading 0.
    up_to_date: int | None = strawberry.field(description="Devices on the latest release (fir:read).")
    outdated: int | None = strawberry.field(description="Devices not on the latest release (fir:read).")
    not_on_cpl: int
    no_upgrade_path: int | None = strawberry.field(
        description="Outdated devices with no upgrade path to the latest (fir:read).",
    )
    invalid: int = strawberry.field(description="Malformed devices never fail the fleet: counted and listed.")
    problems: list[FleetProblem] = strawberry.field(directives=[FLEET_PROBLEMS])
    groups: list[FleetGroup] = strawberry.field(directives=[FLEET_GROUPS])

    @classmethod
    def from_result(cls, r: FleetResult) -> FleetStatus:
        return cls(
            total=r.total,
            distinct=r.distinct,
            up_to_date=r.up_to_date,
            outdated=r.outdated,
            not_on_cpl=r.not_on_cpl,
            no_upgrade_path=r.no_upgrade_path,
            invalid=r.invalid,
            problems=[
                FleetProblem(index=p.index, ref=p.ref, field=p.field, message=p.message) for p in r.problems
            ],
            groups=[
                FleetGroup(count=g.count, refs=g.refs, status=DeviceFirmwareStatus.from_status(g.status))
                for g in r.groups
                if g.status is not None
            ],
        )


def prefetch_of(info: Ctx, path: tuple[str, ...] = ()) -> rules.Prefetch:
    """What a device field's selection reads beyond its CPL rows and releases, so that its one
    statement reads it too: `contacts` anywhere below it (every manufacturer there is the device's),
    `cplEntry` below a release, and the CPL's versions of the model for the fields that read them.

    Found by walking the field's nodes once per parsed document (both executors hand resolvers
    graphql-core's field nodes); @skip and @include are not read, so a skipped field at worst
    prefetches rows nobody reads. `path`: the fields from this one down to the device statuses
    (fleetStatus: groups, status)."""
    raw = info._raw_info
    nodes: _Nodes = tuple(raw.field_nodes)
    key: tuple[int | str, ...] = (*map(id, nodes), *path)
    found = _PREFETCH.get(key)
    if found is not None:  # the entry holds its nodes: their ids are not reused while it lives
        return found[1]
    names: set[tuple[bool, str]] = set()
    for selections in _below(nodes, raw.fragments, path):
        _collect(selections, raw.fragments, False, names, set())
    nested = {name for below, name in names if below}
    prefetch = rules.Prefetch(
        contacts="contacts" in nested or (False, "contacts") in names,  # the device's own or below
        release_entries="cplEntry" in nested,
        cpl_versions=not nested.isdisjoint(_CPL_VERSIONS),
    )
    if len(_PREFETCH) >= _PREFETCH_SIZE:
        _PREFETCH.clear()
    _PREFETCH[key] = (nodes, prefetch)
    return prefetch


def alone(info: Ctx) -> bool:
    """Whether this is the operation's only field that asks for device statuses through the request's
    batch: exactly one root field node named `device` (fragments followed; the same response key
    asked twice is two nodes) and no `_entities`. Worked out once per operation node."""
    raw = info._raw_info
    return _ALONE.get(raw.operation, None, _alone, raw.operation, raw.fragments)


def _alone(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> bool:
    names = [field.name.value for field in fields_of(operation.selection_set, fragments, set())]
    return names.count("device") == 1 and "_entities" not in names


_ALONE: Remembered[bool] = Remembered()
_PREFETCH: dict[tuple[int | str, ...], tuple[_Nodes, rules.Prefetch]] = {}
_PREFETCH_SIZE = 1024
# Fields that read the CPL's versions of a model key (resolvers.releases._visible_versions)
_CPL_VERSIONS = frozenset({"upgradableFromVersions", "revisions"})


def _below(
    nodes: _Nodes, fragments: dict[str, FragmentDefinitionNode], path: tuple[str, ...]
) -> list[SelectionSetNode]:
    """The selection sets of the fields at `path` below `nodes` (the nodes' own for an empty path)."""
    found = [node.selection_set for node in nodes if node.selection_set is not None]
    for name in path:
        below: list[SelectionSetNode] = []
        for selections in found:
            _fields_named(selections, fragments, name, below, set())
        found = below
    return found


def _fields_named(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    name: str,
    out: list[SelectionSetNode],
    seen: set[str],
) -> None:
    for selection in fields_of(selections, fragments, seen):
        if selection.name.value == name and selection.selection_set is not None:
            out.append(selection.selection_set)


def _collect(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    nested: bool,
    names: set[tuple[bool, str]],
    seen: set[tuple[bool, str]],
) -> None:
    """(nested, field name) of every field below: nested is False for the device's own fields."""
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            names.add((nested, selection.name.value))
            _collect(selection.selection_set, fragments, True, names, seen)
        elif isinstance(selection, InlineFragmentNode):
            _collect(selection.selection_set, fragments, nested, names, seen)
        elif isinstance(selection, FragmentSpreadNode) and (nested, selection.name.value) not in seen:
            seen.add((nested, selection.name.value))
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                _collect(fragment.selection_set, fragments, nested, names, seen)
