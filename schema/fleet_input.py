"""fleetStatus(devices:) from a variable, coerced once straight into columns; graphql-core's coercion for anything unusual."""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any, cast

from graphql import (
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    TypeNode,
    VariableDefinitionNode,
)

from resolvers.fleet import FleetDevices, RawIdentity

IDENTITY_FIELDS = ("manufacturerId", "modelId", "hardwareVersion", "firmwareVersion")
_WITH_REF = frozenset(("ref", *IDENTITY_FIELDS))
_REF_TYPES = {str, type(None)}
_identity_of = itemgetter(*IDENTITY_FIELDS)


def is_fleet_list(node: TypeNode) -> bool:
    """`[FleetDeviceInput!]!`, the contract type of fleetStatus(devices:)."""
    inner = node.type if isinstance(node, NonNullTypeNode) else None
    item = inner.type if isinstance(inner, ListTypeNode) else None
    named = item.type if isinstance(item, NonNullTypeNode) else None
    return isinstance(named, NamedTypeNode) and named.name.value == "FleetDeviceInput"


def fleet_names(operation: OperationDefinitionNode | None) -> tuple[str, ...]:
    """The operation's variables of the contract type, without a default (a default is left to graphql-core)."""
    definitions: tuple[VariableDefinitionNode, ...] = (
        tuple(operation.variable_definitions or ()) if operation else ()
    )
    return tuple(
        definition.variable.name.value
        for definition in definitions
        if is_fleet_list(definition.type) and definition.default_value is None
    )


def fleet_columns(
    names: tuple[str, ...], raw: Mapping[str, Any], known: Mapping[str, FleetDevices | None] | None = None
) -> dict[str, FleetDevices]:
    """Those of the named variables given whose every item is plain, in columns (`known`: columns
    already made of some of these variables, schema.sifted)."""
    found: dict[str, FleetDevices] = {}
    for name in names:
        if name in raw:
            devices = known[name] if known is not None and name in known else columns(raw[name])
            if devices is not None:
                found[name] = devices
    return found


def columns(items: Any) -> FleetDevices | None:
    """The devices in columns, exactly what graphql-core's coercion would give (a missing ref is null),
    or None when any item is not a plain object of strings: graphql-core then coerces the whole list
    and reports each problem with its own message and path.

    Every pass over the million items is a C loop (map, set, dict); Python code runs once per
    distinct identity. Equal identities end up as one shared tuple."""
    if type(items) is not list or set(map(type, items)) - {dict}:
        return None
    try:
        if not all(map(_WITH_REF.issuperset, items)):  # no unknown field
            return None
        raw: list[RawIdentity] = list(map(_identity_of, items))  # KeyError: a field missing
        # TypeError: a list or object among the values (unhashable)
        shared: dict[RawIdentity, RawIdentity] = {}
        identities = list(map(shared.setdefault, raw, raw))
    except (KeyError, TypeError):
        return None
    if not all(type(value) is str for identity in shared for value in identity):
        return None
    refs: list[str | None] = [item.get("ref") for item in items]
    if set(map(type, refs)) - _REF_TYPES:
        return None
    return FleetDevices(refs, identities)


def fleet_devices(value: Any) -> FleetDevices:
    """The resolver's argument: columns from a variable, or graphql-core's coerced objects (a literal,
    or a variable it coerced itself)."""
    if isinstance(value, FleetDevices):
        return value
    items = cast("list[dict[str, str]]", value)
    return FleetDevices(
        [d.get("ref") for d in items],
        [(d["manufacturerId"], d["modelId"], d["hardwareVersion"], d["firmwareVersion"]) for d in items],
    )
