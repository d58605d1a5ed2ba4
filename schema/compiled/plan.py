"""Compiling an operation: graphql-core's field collection run once, each field given its runner and completer."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from strawberry.types.field import StrawberryField

from schema.compiled import complete as completing
from schema.compiled.arguments import NO_ARGUMENTS, Coercion, coercion
from schema.compiled.calls import Call, strawberry_call
from schema.compiled.run import (
    Complete,
    run_attribute,
    run_call,
    run_leaf_attribute,
    run_resolver,
    run_typename,
)


class Unsupported(Exception):
    """Something graphql-core executes that the compiled executor leaves to it."""


class FieldPlan:
    """One response key of one selection set, with everything graphql-core would look up per value."""

    __slots__ = (
        "arguments",
        "as_is",
        "call",
        "complete",
        "details",
        "field_def",
        "field_name",
        "getter",
        "members",
        "name",
        "names",
        "nodes",
        "parent_name",
        "parent_type",
        "quick",
        "resolve",
        "return_type",
        "run",
        "typename",
    )

    def __init__(self, name: str, parent_type: GraphQLObjectType, details: list[FieldDetails]) -> None:
        self.name = name
        self.parent_type = parent_type
        self.parent_name = parent_type.name
        self.details = details
        self.nodes = [d.node for d in details]
        self.field_name = self.nodes[0].name.value
        self.typename: str | None = None
        self.getter: Callable[[Any], Any] = _no_getter
        self.resolve: Any = None
        self.arguments: Callable[[Any], dict[str, Any]] = _no_arguments
        self.call: Call = _no_call
        self.complete: Complete = _never
        self.run: Any = None
        self.field_def: GraphQLField | None = None
        self.return_type: Any = None
        # a plain leaf attribute that run_selection completes itself: a value of exactly type `as_is`
        # is its own answer, an enum member of `members` is answered by its name in `names`
        self.quick = False
        self.as_is: type | None = None
        self.members: type | None = None
        self.names: dict[Any, str] = {}


def _no_getter(source: Any) -> Any:
    raise AssertionError("not a plain attribute")  # pragma: no cover


def _no_arguments(ex: Any) -> dict[str, Any]:
    return NO_ARGUMENTS


def _no_call(source: Any, info: Any, values: dict[str, Any]) -> Any:
    raise AssertionError("not a strawberry resolver")  # pragma: no cover


def _never(ex: Any, field: FieldPlan, value: Any, path: Any, info: Any) -> Any:
    raise AssertionError("completed without a completer")  # pragma: no cover


class Compiler:
    """Walks one operation with one request's variables (the cache key holds those that @skip/@include read)."""

    def __init__(self, ex: Any) -> None:
        self.ex = ex
        self.schema = ex.schema

    def root(self, root_type: GraphQLObjectType) -> list[FieldPlan]:
        ex = self.ex
        collected = collect_fields(
            ex.schema, ex.fragments, ex.variable_values, root_type, ex.operation, ex.hide_suggestions
        )
        return self.selection(root_type, collected.grouped_field_set, collected.new_defer_usages)

    def subselection(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> list[FieldPlan]:
        ex = self.ex
        collected = collect_subfields(
            ex.schema, ex.fragments, ex.variable_values, ex.operation, type_, details, ex.hide_suggestions
        )
        return self.selection(type_, collected.grouped_field_set, collected.new_defer_usages)

    def selection(
        self, parent: GraphQLObjectType, grouped: dict[str, list[FieldDetails]], defers: Any
    ) -> list[FieldPlan]:
        if defers:
            raise Unsupported("@defer")
        plans = [self.field(parent, name, details) for name, details in grouped.items()]
        return [plan for plan in plans if plan is not None]

    def field(self, parent: GraphQLObjectType, name: str, details: list[FieldDetails]) -> FieldPlan | None:
        plan = FieldPlan(name, parent, details)
        for detail in details:
            if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                raise Unsupported("@defer or fragment arguments")
            if any(d.name.value == "stream" for d in detail.node.directives or ()):
                raise Unsupported("@stream")
        if plan.field_name == "__typename":
            plan.typename, plan.run = parent.name, run_typename
            return plan
        if plan.field_name.startswith("__"):
            raise Unsupported("introspection")
        field_def = self.schema.get_field(parent, plan.field_name)
        if field_def is None:
            return None  # graphql-core skips it too
        plan.field_def, plan.return_type = field_def, field_def.type
        plan.complete = self.completer(field_def.type, plan)
        self.resolver(plan, field_def)
        return plan

    def resolver(self, plan: FieldPlan, field_def: GraphQLField) -> None:
        getter = attribute_getter(field_def)
        if getter is not None:
            plan.getter = getter
            # a list (even of scalars) needs its path for its items' errors: only a bare leaf skips it
            named = get_nullable_type(field_def.type)
            plan.run = run_leaf_attribute if is_leaf_type(named) else run_attribute
            if plan.run is run_leaf_attribute:
                quick(plan, named)
            return
        coerce, constants = coercion(field_def, plan.nodes[0], self.ex)
        plan.arguments = coerce
        strawberry = getattr(self.schema, "_strawberry_schema", None)
        found = None if strawberry is None else strawberry_call(field_def, constants, strawberry)
        if found is not None:
            plan.call, reads = found
            if not reads and not isinstance(coerce, Coercion):  # all coerced and converted once
                plan.arguments = _no_arguments
            plan.run = run_call
            return
        plan.resolve = field_def.resolve or self.ex.field_resolver
        plan.run = run_resolver

    def completer(self, type_: Any, plan: FieldPlan) -> Complete:
        where = f"{plan.parent_name}.{plan.field_name}"
        if is_non_null_type(type_):
            message = f"Cannot return null for non-nullable field {where}."
            return completing.non_null(self.completer(type_.of_type, plan), message)
        if is_list_type(type_):
            return completing.list_of(type_, self.completer(type_.of_type, plan), where)
        if is_leaf_type(type_):
            return completing.leaf(type_)
        if is_object_type(type_):
            fields = self.subselection(type_, plan.details)
            return completing.object_of(type_, lambda ex, field: fields)
        if is_abstract_type(type_):
            return completing.abstract(type_, _objects_for(plan.details))
        raise Unsupported(f"output type {type_}")  # pragma: no cover - not reachable in a valid schema


def quick(plan: FieldPlan, named: Any) -> None:
    """What completing.leaf answers without a call, taken out for run_selection: a str or bool as
    String, ID and Boolean hand it on (an int needs its range checked: it keeps the call), an enum
    member by its name. Never null, so a non-null wrapper has nothing to check either."""
    as_is = completing.plain_type(named)
    names = completing.enum_names(named)
    if as_is is not None:
        plan.quick, plan.as_is = True, as_is
    if names:
        plan.quick, plan.members, plan.names = True, named.wrapped_cls, names


def _objects_for(details: list[FieldDetails]) -> Callable[[Any, Any], Complete]:
    """The object completer for each runtime type of an abstract field, compiled the first time it is met."""
    found: dict[str, Complete] = {}

    def object_for(ex: Any, runtime: GraphQLObjectType) -> Complete:
        complete = found.get(runtime.name)
        if complete is None:
            fields = Compiler(ex).subselection(runtime, details)
            complete = found[runtime.name] = completing.object_of(runtime, lambda ex, field: fields)
        return complete

    return object_for


def attribute_getter(field_def: GraphQLField) -> Callable[[Any], Any] | None:
    """strawberry resolves a field with no resolver and no extensions by reading the attribute."""
    definition = field_def.extensions.get("strawberry-definition")
    if (
        not isinstance(definition, StrawberryField)
        or getattr(field_def.resolve, "__name__", "") != "_get_basic_result"
    ):
        return None
    name, default = definition.python_name, definition.default_resolver
    if default is getattr:
        return operator.attrgetter(name)
    return lambda source: default(source, name)
