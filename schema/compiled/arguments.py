"""Arguments planned once per field: graphql-core's coercion and strawberry's conversion, specialised to the types present."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLArgument,
    GraphQLField,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
    is_non_null_type,
)
from graphql.execution.values import coerce_argument
from graphql.pyutils import Undefined
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import (
    StrawberryArgument,
    _is_leaf_type,
    _is_optional_leaf_type,
    convert_argument,
)
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional, has_object_definition
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

IMMUTABLE = (str, int, float, bool, type(None), Enum)
NO_ARGUMENTS: dict[str, Any] = {}

# Converts one coerced value as strawberry's convert_argument would: (value, info, path) -> value.
Convert = Callable[[Any, Any, tuple[str | int, ...]], Any]
# graphql-core's coerced arguments of one field for one request: ex -> {name: value}.
Coerce = Callable[[Any], dict[str, Any]]


def reads_variables(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(reads_variables(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(reads_variables(f.value) for f in value.fields)
    return False


def plain_tree(value: Any) -> bool:
    """An immutable leaf, or a dict or list of plain trees: what graphql-core makes of a literal input
    object or list of built-in scalars and enums."""
    kind = type(value)
    if kind is dict:
        return all(plain_tree(v) for v in value.values())
    if kind is list:
        return all(plain_tree(v) for v in value)
    return isinstance(value, IMMUTABLE)


def fresh(value: Any) -> Any:
    """A copy of a plain tree whose dicts and lists are new (its leaves are immutable)."""
    kind = type(value)
    if kind is dict:
        return {k: fresh(v) for k, v in value.items()}
    if kind is list:
        return [fresh(v) for v in value]
    return value


class Coercion:
    """graphql-core's get_argument_values for one field node: literals and defaults coerced once (an
    immutable value kept as it is, a literal input object or list copied afresh per call, since a
    resolver may change it), a bare variable read from the coerced variables, anything else coerced per
    call by graphql-core's own coerce_argument, in the arguments' declared order (the first error wins)."""

    def __init__(self, field_def: GraphQLField, node: FieldNode, ex: Any) -> None:
        self.node = node
        self.constants: dict[str, Any] = {}
        self.trees: dict[str, Any] = {}  # literal input objects and lists, coerced once, copied per call
        # (argument name, definition, its node, variable name or None, out name, non-null)
        self.steps: list[tuple[str, GraphQLArgument, Any, str | None, str, bool]] = []
        by_name = {argument.name.value: argument for argument in node.arguments or ()}
        for name, arg_def in field_def.args.items():
            arg_node = by_name.get(name)
            out_name = getattr(arg_def, "out_name", None) or name
            if arg_node is not None and isinstance(arg_node.value, VariableNode):
                variable = arg_node.value.name.value
                self.steps.append(
                    (name, arg_def, arg_node, variable, out_name, is_non_null_type(arg_def.type))
                )
            elif not self._constant(name, arg_def, arg_node, ex):
                self.steps.append((name, arg_def, arg_node, None, out_name, False))

    def _constant(self, name: str, arg_def: GraphQLArgument, arg_node: Any, ex: Any) -> bool:
        if arg_node is not None and reads_variables(arg_node.value):
            return False
        found: dict[str, Any] = {}
        try:
            coerce_argument(
                found, self.node, name, arg_def, arg_node, ex.variable_values, None, ex.hide_suggestions
            )
        except Exception:  # raised again, per call, at the field's path
            return False
        if all(isinstance(value, IMMUTABLE) for value in found.values()):
            self.constants.update(found)
            return True
        if all(plain_tree(value) for value in found.values()):
            self.trees.update(found)
            return True
        return False  # any other mutable value is coerced afresh per call

    def __call__(self, ex: Any) -> dict[str, Any]:
        values = dict(self.constants)
        for name, tree in self.trees.items():
            values[name] = fresh(tree)
        if not self.steps:
            return values
        variables = ex.variable_values
        coerced = variables.coerced
        for name, arg_def, arg_node, variable, out_name, non_null in self.steps:
            if variable is not None:
                value = coerced.get(variable, Undefined)
                if value is not Undefined and not (value is None and non_null):
                    values[out_name] = value
                    continue
            coerce_argument(values, self.node, name, arg_def, arg_node, variables, None, ex.hide_suggestions)
        return values


def coercion(field_def: GraphQLField, node: FieldNode, ex: Any) -> tuple[Coerce, dict[str, Any]]:
    """The field's coercion, and the values it coerced once (literals and defaults)."""
    if not field_def.args:
        return _none, {}
    found = Coercion(field_def, node, ex)
    if not found.steps and not found.trees:
        constants = found.constants
        return (lambda ex: dict(constants)), constants
    return found, found.constants  # the immutable ones only: Conversion may hand them on unconverted


def _none(ex: Any) -> dict[str, Any]:
    return {}


class Conversion:
    """strawberry's convert_arguments for one field, a converter per argument built for its type;
    arguments coerced once and converted as they are (leaves) are converted once too."""

    def __init__(self, arguments: list[StrawberryArgument], schema: Any, constants: dict[str, Any]) -> None:
        converter = schema.schema_converter
        self.ready: dict[str, Any] = {}
        # (GraphQL name, Python name, converter or None for a value handed on as it is)
        self.plan: list[tuple[str, str, Convert | None]] = []
        for argument in arguments:
            assert argument.python_name
            name = converter.config.name_converter.from_argument(argument)
            convert = converter_for(argument.type, converter.scalar_registry, converter.config)
            if convert is None and name in constants:
                self.ready[argument.python_name] = constants[name]
            else:
                self.plan.append((name, argument.python_name, convert))

    def __call__(self, values: dict[str, Any], info: Any) -> dict[str, Any]:
        kwargs = dict(self.ready)
        for name, python_name, convert in self.plan:
            if name in values:
                value = values[name]
                kwargs[python_name] = value if convert is None else convert(value, info, (name,))
        return kwargs


def converter_for(type_: Any, registry: Any, config: Any) -> Convert | None:
    """None when strawberry hands the value on as it is (leaves, enums): the commonest case."""
    if isinstance(type_, StrawberryMaybe):
        return _generic(type_, registry, config)
    if isinstance(type_, StrawberryOptional):
        return converter_for(type_.of_type, registry, config)
    if isinstance(type_, StrawberryList):
        return _list_of(type_, registry, config)
    if _is_leaf_type(type_, registry):
        return _generic(type_, registry, config) if type_ is GlobalID else None
    if isinstance(type_, LazyType):
        return converter_for(type_.resolve_type(), registry, config)
    if has_enum_definition(type_):
        return converter_for(type_.__strawberry_definition__, registry, config)
    if has_object_definition(type_):
        definition = type_.__strawberry_definition__
        if definition.from_input is None and definition.is_input:
            return _input_object(type_, registry, config)
    return _generic(type_, registry, config)


def _generic(type_: Any, registry: Any, config: Any) -> Convert:
    def convert(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
        return convert_argument(value, type_, registry, config, info, path=path)

    return convert


def _list_of(type_: StrawberryList, registry: Any, config: Any) -> Convert:
    item_type = type_.of_type
    if _is_leaf_type(item_type, registry, skip_classes=(GlobalID,)) or _is_optional_leaf_type(
        item_type, registry, skip_classes=(GlobalID,)
    ):
        return _copied
    item = converter_for(item_type, registry, config) or _as_is

    def convert(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
        if value is None or value is UNSET:
            return value
        return [item(x, info, (*path, index)) for index, x in enumerate(value)]

    return convert


def _copied(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
    # a list is copied: graphql-core gives every request that omits it the same default
    return value if value is None or value is UNSET else list(value)


def _as_is(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
    return value


def _input_object(type_: Any, registry: Any, config: Any) -> Convert:
    definition = type_.__strawberry_definition__
    # strawberry's implicit None for every field without a default: graphql-core supplied the required ones
    defaults = {
        field.python_name: None
        for field in definition.fields
        if field.default_value is MISSING and field.default_factory is MISSING
    }
    fields = [
        (
            config.name_converter.from_field(field),
            field.python_name,
            converter_for(field.resolve_type(type_definition=definition), registry, config),
        )
        for field in definition.fields
    ]

    def convert(value: Any, info: Any, path: tuple[str | int, ...]) -> Any:
        if value is None or value is UNSET:
            return value
        kwargs = dict(defaults)
        for name, python_name, item in fields:
            if name in value:
                found = value[name]
                kwargs[python_name] = found if item is None else item(found, info, (*path, name))
        return type_(**kwargs)

    return convert
