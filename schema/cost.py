"""Static analysis of a document before validation: demand-control cost, depth and aliases, in one linear pass.

The cost follows the IBM GraphQL cost directive spec as Apollo Router's demand control computes it, from
the `@cost` and `@listSize` directives the SDL prints (read back from the strawberry declarations, so
the printed model and the enforced one cannot drift): an object field weighs 1, a scalar or enum 0, a
list multiplies its element's cost by its size (a slicing argument such as `first`, a list argument's
length, or its `assumedSize`), arguments add their input cost (an input object 1, a list the sum of
its items). On top of that every field selection counts 1 once, after fragment expansion: the work
validation and execution do whatever the data, which the router's defaults (scalars 0) leave out.

Each fragment is analysed once per sizing context and memoised, never re-walked per spread, so a
document of doubling fragments costs its (huge) number in time linear in its text; a fragment cycle
counts 0 (validation refuses it next).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValueNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    is_input_object_type,
    is_list_type,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLType
from strawberry import UNSET
from strawberry.federation.schema_directives import Cost, ListSize

from schema.sizes import assumed

# A list nothing declares a size for: Apollo Router's `static_estimated.list_size` in its examples.
DEFAULT_LIST_SIZE = 10
# Apollo Router's base cost of a mutation operation.
MUTATION_COST = 10
# `_entities` is federation's, not ours to decorate: one entity per representation.
ENTITIES = ListSize(assumed_size=UNSET, slicing_arguments=["representations"], sized_fields=UNSET)
BACKREF = "strawberry-definition"


@dataclass(frozen=True)
class FieldRule:
    """What a field declares: `@cost(weight:)` and `@listSize(...)`."""

    weight: int | None = None
    list_size: ListSize | None = None


@dataclass(frozen=True)
class Measure:
    demand: int = 0  # the demand-control cost, multiplied by list sizes
    selections: int = 0  # field selections after fragment expansion
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            self.demand + other.demand,
            self.selections + other.selections,
            max(self.depth, other.depth),
            self.aliases + other.aliases,
        )

    @property
    def cost(self) -> int:
        return self.demand + self.selections


@dataclass(frozen=True)
class Analysis:
    cost: int
    depth: int
    aliases: int
    selections: int
    visits: int  # selection nodes walked: at most once per node and sizing context (linear)


@dataclass(frozen=True)
class Sizing:
    """The size a parent's `@listSize(sizedFields:)` hands down to the lists it names."""

    fields: frozenset[str] = frozenset()
    size: int | None = None


NO_SIZING = Sizing()


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


class Walk:
    """One document's analysis: fragments memoised per sizing context, cycles cut."""

    def __init__(self, model: CostModel, document: DocumentNode, variables: Mapping[str, Any] | None) -> None:
        self.model = model
        self.variables = variables if isinstance(variables, Mapping) else {}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[tuple[str, Sizing], Measure] = {}
        self.visits = 0

    def operation(self, node: OperationDefinitionNode) -> Measure:
        root = self.model.schema.get_root_type(node.operation)
        base = Measure(demand=MUTATION_COST) if node.operation is OperationType.MUTATION else Measure()
        return base + self.selection_set(node.selection_set, root, NO_SIZING)

    def fragment(self, name: str, sizing: Sizing) -> Measure:
        key = (name, sizing)
        if key not in self.memo:
            definition = self.fragments.get(name)
            self.memo[key] = Measure()  # a cycle back here counts 0
            if definition is not None:
                parent = self.model.schema.get_type(definition.type_condition.name.value)
                self.memo[key] = self.selection_set(definition.selection_set, parent, sizing)
        return self.memo[key]

    def selection_set(
        self, node: SelectionSetNode | None, parent: GraphQLNamedType | None, sizing: Sizing
    ) -> Measure:
        total = Measure()
        for selection in node.selections if node else ():
            self.visits += 1
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, sizing)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.model.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, inner, sizing)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, sizing)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, sizing: Sizing) -> Measure:
        definition = self.model.field(parent, node.name.value)
        alias = Measure(aliases=1) if node.alias else Measure()
        if definition is None or parent is None:  # unknown here: validation refuses it; cost it as an object
            child = self.selection_set(node.selection_set, None, NO_SIZING)
            return alias + Measure(1 + child.demand, 1 + child.selections, 1 + child.depth, child.aliases)
        rule = self.model.rule(parent, node.name.value, definition)
        named = get_named_type(definition.type)
        size = self.expected_size(node, definition, rule.list_size)
        inner = Sizing(frozenset(rule.list_size.sized_fields or ()), size) if rule.list_size else NO_SIZING
        child = self.selection_set(node.selection_set, named, inner if inner.fields else NO_SIZING)
        count = self.count(node, definition, rule, sizing, size)
        own = rule.weight if rule.weight is not None else int(is_composite_type(named))
        demand = count * (own + child.demand) + self.arguments(node, definition)
        return alias + Measure(demand, 1 + child.selections, 1 + child.depth, child.aliases)

    def count(
        self, node: FieldNode, definition: GraphQLField, rule: FieldRule, sizing: Sizing, size: int | None
    ) -> int:
        if not is_list_somewhere(definition.type):
            return 1
        if node.name.value in sizing.fields and sizing.size is not None:
            return sizing.size
        return DEFAULT_LIST_SIZE if size is None else size

    def expected_size(
        self, node: FieldNode, definition: GraphQLField, list_size: ListSize | None
    ) -> int | None:
        """The largest slicing argument given (or defaulted), else the assumed size, else None."""
        if list_size is None:
            return None
        given = {a.name.value: a.value for a in node.arguments or ()}
        names = list_size.slicing_arguments or ()
        found = [s for n in names if (s := self.size_of(given.get(n), definition.args.get(n))) is not None]
        if found:
            return max(found)
        return list_size.assumed_size if isinstance(list_size.assumed_size, int) else None

    def size_of(self, value: ValueNode | None, argument: GraphQLArgument | None) -> int | None:
        if isinstance(value, VariableNode):
            return size_of_json(self.variables.get(value.name.value))
        if isinstance(value, IntValueNode):
            return max(0, int(value.value))
        if isinstance(value, ListValueNode):
            return len(value.values or ())
        if value is None and argument is not None:
            return size_of_json(argument.default_value)
        return None

    def arguments(self, node: FieldNode, definition: GraphQLField) -> int:
        total = 0
        for argument in node.arguments or ():
            declared = definition.args.get(argument.name.value)
            if declared is not None:
                total += self.input_cost(argument.value, declared.type, weight_of(declared))
        return total

    def input_cost(self, value: Any, type_: GraphQLInputType, weight: int | None) -> int:
        if isinstance(value, VariableNode):
            return json_input_cost(self.variables.get(value.name.value), type_, weight)
        if value is None or isinstance(value, NullValueNode):
            return 0
        named = get_named_type(type_)
        if isinstance(value, ListValueNode):
            item = unwrap_list(type_)
            return (weight or 0) + sum(self.input_cost(v, item, weight) for v in value.values or ())
        if isinstance(value, ObjectValueNode) and isinstance(named, GraphQLInputObjectType):
            fields = named.fields
            inner = sum(
                self.input_cost(f.value, fields[f.name.value].type, weight_of(fields[f.name.value]))
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


def size_of_json(value: Any) -> int | None:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return max(0, value)
    return None


def analyse(model: CostModel, document: DocumentNode, variables: Mapping[str, Any] | None = None) -> Analysis:
    """Every operation and every fragment (validation walks unused ones too): the largest of each measure."""
    walk = Walk(model, document, variables)
    measures = [walk.operation(d) for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    measures += [walk.fragment(name, NO_SIZING) for name in walk.fragments]
    return Analysis(
        cost=max((m.cost for m in measures), default=0),
        depth=max((m.depth for m in measures), default=0),
        aliases=max((m.aliases for m in measures), default=0),
        selections=max((m.selections for m in measures), default=0),
        visits=walk.visits,
    )
