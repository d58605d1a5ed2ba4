"""Operation variables coerced by a coercer built once per operation; graphql-core's own coercion for anything irregular."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    VariableDefinitionNode,
    is_required_input_field,
)
from graphql.execution.get_variable_signature import GraphQLVariableSignature, get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource, maybe_use_default_value
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import Undefined
from graphql.utilities.coerce_input_value import coerce_default_value

# A value coerced exactly as graphql-core's coerce_input_value would, or Declined raised.
Coerce = Callable[[Any], Any]
# Values that graphql-core's lists take as a list of one (is_iterable is false for them).
_SINGLE = frozenset((str, int, float, bool, dict))
# graphql-core's own scalars, and the type of value each returns as it is (they check isinstance)
_PLAIN: tuple[tuple[Callable[[Any], Any], type], ...] = (
    (GraphQLString.coerce_input_value, str),
    (GraphQLID.coerce_input_value, str),
    (GraphQLBoolean.coerce_input_value, bool),
)


class Declined(Exception):
    """The input is not a plainly valid one: graphql-core coerces it again and reports its own errors."""


class Uncompiled(Exception):
    """A type this module leaves to graphql-core: recursive, @oneOf, a custom out_type, too deep."""


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    node: VariableDefinitionNode
    signature: GraphQLVariableSignature | None  # None: it has a default, made anew per request (below)
    coerce: Coerce
    non_null: bool


class VariableCoercer:
    """graphql-core's coerce_variable_values for one operation's variables, for valid input: the same
    sources and coerced values, in the same order. Anything else raises Declined; graphql-core then
    coerces the input itself, with its own errors and paths, and never sees this attempt.

    A variable with a default gets a fresh signature per request, as in graphql-core: the coerced
    default is memoised on it, and a shared one would hand one request's (mutable) default to the next."""

    def __init__(self, schema: GraphQLSchema, variables: list[_Variable]) -> None:
        self.schema = schema
        self.variables = variables

    def __call__(self, inputs: Mapping[str, Any], hide_suggestions: bool) -> VariableValues:
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for variable in self.variables:
            name, signature = variable.name, variable.signature
            if signature is None:
                signature = self._signature(variable.node)
            value = inputs.get(name, Undefined)
            if value is Undefined:
                sources[name] = VariableValueSource(signature)
                if variable.signature is None:
                    maybe_use_default_value(coerced, name, signature, _decline, hide_suggestions)
                elif variable.non_null:
                    raise Declined(name)
                continue
            sources[name] = VariableValueSource(signature, value)
            coerced[name] = variable.coerce(value)
        return VariableValues(sources, coerced)

    def _signature(self, node: VariableDefinitionNode) -> GraphQLVariableSignature:
        signature = get_variable_signature(self.schema, node)
        if isinstance(signature, GraphQLError):  # pragma: no cover - it was not one when compiled
            raise Declined(signature.message)
        return signature


def _decline(error: GraphQLError, path: list[str | int]) -> None:
    raise Declined(error.message)


def compile_variables(
    schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]
) -> VariableCoercer | None:
    """The operation's coercer, or None when graphql-core should coerce its variables (a signature
    error, or a type this module does not compile)."""
    variables: list[_Variable] = []
    for node in definitions:
        signature = get_variable_signature(schema, node)
        if isinstance(signature, GraphQLError):
            return None
        try:
            coerce = compile_type(signature.type)
        except Uncompiled:
            return None
        kept = None if node.default_value else signature
        non_null = isinstance(signature.type, GraphQLNonNull)
        variables.append(_Variable(signature.name, node, kept, coerce, non_null))
    return VariableCoercer(schema, variables)


def compile_type(type_: GraphQLInputType) -> Coerce:
    """A coercer for the type; Uncompiled when graphql-core should coerce it. The types compiled are
    finite trees (recursion declined), no deeper than graphql-core's own nesting limit, so no input
    they accept can be nested too deeply (graphql-core's input_is_nested_too_deeply follows the type)."""
    if depth(type_, ()) > MAX_NESTING_DEPTH:
        raise Uncompiled("too deep")
    return _coercer(type_)


def depth(type_: GraphQLInputType, seen: tuple[GraphQLInputObjectType, ...]) -> int:
    """How deep graphql-core's nesting check can go into a value of this type."""
    if isinstance(type_, GraphQLNonNull):
        return depth(type_.of_type, seen)
    if isinstance(type_, GraphQLList):
        return 1 + depth(type_.of_type, seen)
    if isinstance(type_, GraphQLInputObjectType):
        if type_ in seen:
            raise Uncompiled(f"{type_.name} is recursive")
        inner = (depth(field.type, (*seen, type_)) for field in type_.fields.values())
        return 1 + max(inner, default=0)
    return 0


def _coercer(type_: GraphQLInputType) -> Coerce:
    if isinstance(type_, GraphQLNonNull):
        return _inner(type_.of_type, non_null=True)
    return _inner(type_, non_null=False)


def _inner(type_: GraphQLInputType, non_null: bool) -> Coerce:
    if isinstance(type_, GraphQLList):
        return _list(_coercer(type_.of_type), non_null)
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object(type_, non_null)
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        parse = type_.coerce_input_value
        return _leaf(parse, non_null, next((kind for known, kind in _PLAIN if known is parse), None))
    raise Uncompiled(f"not an input type: {type_}")  # pragma: no cover - signatures are input types


def _null(non_null: bool) -> None:
    """What graphql-core makes of null (or undefined) for the type: null, or invalid."""
    if non_null:
        raise Declined("null for a non-null type")


def _list(item: Coerce, non_null: bool) -> Coerce:
    def coerce(value: Any) -> Any:
        if type(value) is list:
            return [item(each) for each in value]
        if value is None or value is Undefined:
            return _null(non_null)
        if type(value) in _SINGLE:
            return [item(value)]
        raise Declined("an iterable other than a list")  # tuples, sets, generators: graphql-core decides

    return coerce


def _leaf(parse: Callable[[Any], Any], non_null: bool, plain: type | None) -> Coerce:
    """`plain`: the type of value the scalar's coercion returns as it is (a str for String)."""

    def coerce(value: Any) -> Any:
        if type(value) is plain:
            return value
        if value is None or value is Undefined:
            return _null(non_null)
        try:
            parsed = parse(value)
        except Exception as error:
            raise Declined(str(error)) from None
        if parsed is Undefined:
            raise Declined("parsed as undefined")
        return parsed

    return coerce


def _input_object(type_: GraphQLInputObjectType, non_null: bool) -> Coerce:
    if type_.is_one_of:
        raise Uncompiled(f"{type_.name} is @oneOf")
    if type_.out_type is not GraphQLInputObjectType.out_type:
        raise Uncompiled(f"{type_.name} has its own out_type")
    # (name, out name, coercer, required, the field when it may have a default: memoised on it)
    fields = [
        (
            name,
            field.out_name or name,
            _coercer(field.type),
            is_required_input_field(field),
            field if field.default is not None or field.default_value is not Undefined else None,
        )
        for name, field in type_.fields.items()
    ]
    names = frozenset(type_.fields)

    def coerce(value: Any) -> Any:
        if type(value) is not dict or not names.issuperset(value):
            if value is None or value is Undefined:
                return _null(non_null)
            raise Declined(f"not a plain {type_.name}")
        coerced: dict[str, Any] = {}
        for name, key, coerce_field, required, defaulted in fields:
            found = value.get(name, Undefined)
            if found is not Undefined:
                coerced[key] = coerce_field(found)
            elif required:
                raise Declined(f"{type_.name}.{name} missing")
            elif defaulted is not None:
                default = _default(defaulted)
                if default is not Undefined:
                    coerced[key] = default
        return coerced

    return coerce


def _default(field: Any) -> Any:
    try:
        return coerce_default_value(field)
    except Exception as error:  # an invalid default: graphql-core raises it, in its own words
        raise Declined(str(error)) from None
