"""The cost of a field's arguments, from the document's literals or the request's raw variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    VariableNode,
    get_named_type,
    is_input_object_type,
    is_list_type,
)
from graphql.type.definition import GraphQLType

from schema.cost_model import weight_of


def input_cost(value: Any, type_: GraphQLInputType, weight: int | None, variables: Mapping[str, Any]) -> int:
    """An argument's cost: an input object 1 (or its @cost), a list its own weight plus its items', a scalar 0."""
    if isinstance(value, VariableNode):
        return json_input_cost(variables.get(value.name.value), type_, weight)
    if value is None or isinstance(value, NullValueNode):
        return 0
    named = get_named_type(type_)
    if isinstance(value, ListValueNode):
        item = unwrap_list(type_)
        return (weight or 0) + sum(input_cost(v, item, weight, variables) for v in value.values or ())
    if isinstance(value, ObjectValueNode) and isinstance(named, GraphQLInputObjectType):
        fields = named.fields
        inner = sum(
            input_cost(f.value, fields[f.name.value].type, weight_of(fields[f.name.value]), variables)
            for f in value.fields or ()
            if f.name.value in fields
        )
        return (1 if weight is None else weight) + inner
    return weight or 0


def json_input_cost(value: Any, type_: GraphQLInputType, weight: int | None) -> int:
    """The same cost for a variable's raw JSON value, in O(1) for a list of flat items (a fleet)."""
    if value is None:
        return 0
    named = get_named_type(type_)
    if isinstance(value, list):
        item = unwrap_list(type_)
        if is_flat(item):
            each = (1 if weight is None else weight) if is_input_object_type(named) else (weight or 0)
            return (weight or 0) + len(value) * each
        return (weight or 0) + sum(json_input_cost(v, item, weight) for v in value)
    if isinstance(value, dict) and isinstance(named, GraphQLInputObjectType):
        inner = sum(
            json_input_cost(value[n], f.type, weight_of(f)) for n, f in named.fields.items() if n in value
        )
        return (1 if weight is None else weight) + inner
    return weight or 0


def is_flat(type_: GraphQLInputType) -> bool:
    """Scalars, or an input object whose fields are undecorated scalars: every item costs the same."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLInputObjectType):
        return not is_list_somewhere(type_)
    return not is_list_somewhere(type_) and all(flat_field(f) for f in named.fields.values())


def flat_field(field: GraphQLInputField) -> bool:
    return (
        weight_of(field) is None
        and not is_input_object_type(get_named_type(field.type))
        and not is_list_somewhere(field.type)
    )


def unwrap_list(type_: GraphQLInputType) -> GraphQLInputType:
    inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return inner.of_type if isinstance(inner, GraphQLList) else inner  # type: ignore[no-any-return]


def is_list_somewhere(type_: GraphQLType) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return is_list_type(inner)
