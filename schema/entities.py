"""`_entities` representations checked against the federation keys before any reference is resolved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import GraphQLNamedType, GraphQLObjectType, GraphQLSchema, get_named_type

from resolvers.errors import BadUserInput
from resolvers.pagination import INT32_MAX, parse_decimal

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


class _Malformed(Exception):
    pass


def _key_value(value: object, scalar: str) -> object:
    """The key value as its resolver takes it; an Int may come as a JSON number or as decimal text."""
    if isinstance(value, bool):
        raise _Malformed
    if scalar == "Int":
        number = parse_decimal(value, INT32_MAX) if isinstance(value, str) else value
        if not isinstance(number, int) or number not in INT32:
            raise _Malformed
        return number
    if scalar == "ID" and isinstance(value, str | int):
        return value
    if not isinstance(value, str):
        raise _Malformed
    return value


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
    checked: dict[str, object] = {"__typename": typename}
    for field in key:
        scalar = entity.scalars[field]
        try:
            checked[field] = _key_value(representation[field], scalar)
        except _Malformed:
            raise BadUserInput(
                f"{where}.{field} must be of type {scalar}", field=f"{where}.{field}"
            ) from None
    return checked
