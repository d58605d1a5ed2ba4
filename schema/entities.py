"""`_entities` representations checked against the federation keys before any reference is resolved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import FieldNode, GraphQLNamedType, GraphQLObjectType, GraphQLSchema, get_named_type, parse
from graphql.language import OperationDefinitionNode

from resolvers.errors import BadUserInput
from resolvers.pagination import INT32_MAX, parse_decimal

INT32 = range(-(2**31), 2**31)


@dataclass(frozen=True)
class EntityKeys:
    """Per entity type: its key field sets (top-level names), the subfields of nested key fields
    (`identity { manufacturerId ... }`), and the scalar type of each leaf ("identity.modelId")."""

    keys: tuple[tuple[str, ...], ...]
    scalars: Mapping[str, str]
    nested: Mapping[str, tuple[str, ...]]


def _fieldset(fieldset: str) -> dict[str, tuple[str, ...]]:
    """Top-level key fields, each with its subfields (empty for a scalar)."""
    operation = parse("{ " + fieldset + " }").definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    found: dict[str, tuple[str, ...]] = {}
    for selection in operation.selection_set.selections:
        assert isinstance(selection, FieldNode)
        subs = selection.selection_set.selections if selection.selection_set else ()
        found[selection.name.value] = tuple(s.name.value for s in subs if isinstance(s, FieldNode))
    return found


def entity_keys(schema: GraphQLSchema, declared: Mapping[str, list[str]]) -> dict[str, EntityKeys]:
    found: dict[str, EntityKeys] = {}
    for name, fieldsets in declared.items():
        graphql_type: GraphQLNamedType = schema.type_map[name]
        assert isinstance(graphql_type, GraphQLObjectType)
        parsed = [_fieldset(fieldset) for fieldset in fieldsets]
        nested = {f: subs for fields in parsed for f, subs in fields.items() if subs}
        scalars: dict[str, str] = {}
        for fields in parsed:
            for field, subs in fields.items():
                named = get_named_type(graphql_type.fields[field].type)
                if not subs:
                    scalars[field] = named.name
                    continue
                assert isinstance(named, GraphQLObjectType)
                for sub in subs:
                    scalars[f"{field}.{sub}"] = get_named_type(named.fields[sub].type).name
        found[name] = EntityKeys(tuple(tuple(fields) for fields in parsed), scalars, nested)
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
        if field in entity.nested:
            checked[field] = _nested_value(representation[field], field, entity, where)
        else:
            checked[field] = _checked_value(representation[field], field, entity, where)
    return checked


def _checked_value(value: object, path: str, entity: EntityKeys, where: str) -> object:
    scalar = entity.scalars[path]
    try:
        return _key_value(value, scalar)
    except _Malformed:
        raise BadUserInput(f"{where}.{path} must be of type {scalar}", field=f"{where}.{path}") from None


def _nested_value(value: object, field: str, entity: EntityKeys, where: str) -> dict[str, object]:
    """A nested key (`identity { ... }`): an object with every subfield; their contents are the
    resolver's to judge (a malformed identity is its BAD_USER_INPUT, naming the field)."""
    subs = entity.nested[field]
    if not isinstance(value, dict) or not all(sub in value for sub in subs):
        wanted = " ".join(subs)
        raise BadUserInput(f"{where}.{field} must be an object with {wanted}", field=f"{where}.{field}")
    return {sub: _checked_value(value[sub], f"{field}.{sub}", entity, where) for sub in subs}
