"""`_entities` representations checked against the federation keys before any reference is resolved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import GraphQLNamedType, GraphQLObjectType, GraphQLSchema, get_named_type

from resolvers.errors import BadUserInput

INT32 = range(-(2**31), 2**31)


@dataclass(frozen=True)
class EntityKeys:
    """Per entity type: its key field sets, and the scalar type of each key field."""

    keys: tuple[tuple[str, ...], ...]
    scalars: Mapping[str, str]


def entity_keys(schema: GraphQLSchema, declared: Mapping[str, list[str]]) -> dict[str, EntityKeys]:
    found: dict[str, EntityKeys] = {}
    for name, fieldsets in declared.items():
        graphql_type: GraphQLNamedType = schema.type_map[name]
        assert isinstance(graphql_type, GraphQLObjectType)
        keys = tuple(tuple(fieldset.split()) for fieldset in fieldsets)
        fields = {f for key in keys for f in key}
        scalars = {f: get_named_type(graphql_type.fields[f].type).name for f in fields}
        found[name] = EntityKeys(keys, scalars)
    return found


def _well_typed(value: object, scalar: str) -> bool:
    if isinstance(value, bool):
        return False
    if scalar == "Int":
        return isinstance(value, int) and value in INT32
    if scalar == "ID":
        return isinstance(value, str | int)
    return isinstance(value, str)


def checked_representation(
    representation: object, index: int, entities: Mapping[str, EntityKeys]
) -> dict[str, object]:
    """The representation cut down to __typename and one complete key; BadUserInput naming what is wrong."""
    where = f"representations[{index}]"
    if not isinstance(representation, dict):
        raise BadUserInput(f"{where} must be an object with __typename and key fields", field=where)
    typename = representation.get("__typename")
    if not isinstance(typename, str) or typename not in entities:
        names = ", ".join(sorted(entities))
        raise BadUserInput(f"{where}.__typename must be one of {names}", field=f"{where}.__typename")
    entity = entities[typename]
    key = next((k for k in entity.keys if all(f in representation for f in k)), None)
    if key is None:
        wanted = " or ".join(f"({' '.join(k)})" for k in entity.keys)
        raise BadUserInput(f"{where} needs the key fields of {typename}: {wanted}", field=where)
    for field in key:
        if not _well_typed(representation[field], entity.scalars[field]):
            scalar = entity.scalars[field]
            raise BadUserInput(f"{where}.{field} must be of type {scalar}", field=f"{where}.{field}")
    return {"__typename": typename, **{f: representation[f] for f in key}}
