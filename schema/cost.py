"""A document's static cost, depth and aliases in one linear pass, before validation (README, "Query cost")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLNamedType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)
from strawberry.federation.schema_directives import ListSize

from schema.cost_model import CostModel, FieldRule, weight_of
from schema.input_cost import input_cost, is_list_somewhere

# A list nothing declares a size for: Apollo Router's `static_estimated.list_size` in its examples.
DEFAULT_LIST_SIZE = 10
# Apollo Router's base cost of a mutation operation.
MUTATION_COST = 10


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


class Walk:
    """One document's analysis. Each fragment is walked once per sizing context and memoised, never per
    spread, so doubling fragments cost their (huge) number in time linear in the text; a cycle counts 0
    (validation refuses it next). Every field selection also counts 1, after expansion: the work
    validation and execution do whatever the data, which the router's defaults (scalars 0) leave out."""

    def __init__(self, model: CostModel, document: DocumentNode, variables: Mapping[str, Any] | None) -> None:
        self.model = model
        self.variables = variables if isinstance(variables, Mapping) else {}
        # a variable the request leaves out takes its declared default (the largest, if several
        # operations declare it): `$n: Int = 100` slices as 100, not as the assumed size
        self.defaults: dict[str, ValueNode] = {}
        for d in document.definitions:
            if isinstance(d, OperationDefinitionNode):
                for v in d.variable_definitions or ():
                    name = v.variable.name.value
                    if v.default_value is not None and (
                        (self.size_of(v.default_value, None) or 0)
                        >= (self.size_of(self.defaults.get(name), None) or 0)
                    ):
                        self.defaults[name] = v.default_value
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
            name = value.name.value
            if name not in self.variables and name in self.defaults:
                return self.size_of(self.defaults[name], None)
            return size_of_json(self.variables.get(name))
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
                total += input_cost(argument.value, declared.type, weight_of(declared), self.variables)
        return total


def size_of_json(value: Any) -> int | None:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return max(0, value)
    if isinstance(value, float) and value.is_integer():  # graphql-core coerces 100.0 to the Int 100
        return max(0, int(value))
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
