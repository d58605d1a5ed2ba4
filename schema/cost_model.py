"""The cost model's declarations: `@cost` and `@listSize` read back from the strawberry definitions that print them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    is_abstract_type,
)
from graphql.type.definition import GraphQLInterfaceType
from strawberry import UNSET
from strawberry.federation.schema_directives import Cost, ListSize

from schema.sizes import assumed

# `_entities` is federation's, not ours to decorate: one entity per representation.
ENTITIES = ListSize(assumed_size=UNSET, slicing_arguments=["representations"], sized_fields=UNSET)
BACKREF = "strawberry-definition"


@dataclass(frozen=True)
class FieldRule:
    """What a field declares: `@cost(weight:)` and `@listSize(...)`."""

    weight: int | None = None
    list_size: ListSize | None = None


def directives_of(definition: Any) -> Sequence[object]:
    strawberry_definition = (getattr(definition, "extensions", None) or {}).get(BACKREF)
    return getattr(strawberry_definition, "directives", None) or ()


def weight_of(definition: Any) -> int | None:
    return next((d.weight for d in directives_of(definition) if isinstance(d, Cost)), None)


class CostModel:
    """The declarations of one schema, looked up by type and field, plus sizes for introspection lists."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.rules: dict[tuple[str, str], FieldRule] = {}
        self.introspection = introspection_sizes(schema)

    def field(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is self.schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        fields: dict[str, GraphQLField] = getattr(parent, "fields", None) or {}
        return fields.get(name) if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else None

    def rule(self, parent: GraphQLNamedType, name: str, definition: GraphQLField) -> FieldRule:
        key = (parent.name, name)
        if key not in self.rules:
            self.rules[key] = self._rule(key, definition)
        return self.rules[key]

    def _rule(self, key: tuple[str, str], definition: GraphQLField) -> FieldRule:
        if key in self.introspection:
            return FieldRule(list_size=assumed(self.introspection[key]))
        if key == (getattr(self.schema.query_type, "name", ""), "_entities"):
            return FieldRule(list_size=ENTITIES)
        directives = directives_of(definition)
        size = next((d for d in directives if isinstance(d, ListSize)), None)
        return FieldRule(weight=weight_of(definition), list_size=size)


def introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """Introspection lists sized by this (static) schema's average per parent, rounded up: a walk over
    every type costs what it answers, and each nesting through `type { fields }` multiplies as it should."""
    types = list(schema.type_map.values())
    fields = [
        f for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) for f in t.fields.values()
    ]

    def per_type(count: Callable[[GraphQLNamedType], int]) -> int:
        return -(-sum(count(t) for t in types) // len(types))

    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(schema.directives),
        ("__Type", "fields"): per_type(
            lambda t: len(t.fields) if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) else 0
        ),
        ("__Type", "inputFields"): per_type(
            lambda t: len(t.fields) if isinstance(t, GraphQLInputObjectType) else 0
        ),
        ("__Type", "enumValues"): per_type(lambda t: len(t.values) if isinstance(t, GraphQLEnumType) else 0),
        ("__Type", "interfaces"): per_type(lambda t: len(getattr(t, "interfaces", ()))),
        ("__Type", "possibleTypes"): per_type(
            lambda t: len(schema.get_possible_types(t)) if is_abstract_type(t) else 0
        ),
        ("__Field", "args"): -(-sum(len(f.args) for f in fields) // max(1, len(fields))),
        ("__Directive", "args"): -(
            -sum(len(d.args) for d in schema.directives) // max(1, len(schema.directives))
        ),
    }
