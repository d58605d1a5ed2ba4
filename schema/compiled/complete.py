"""Completion specialised per output type, built once per field: graphql-core's complete_value, unrolled."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLString,
)
from graphql.execution.executor import invalid_return_type_error
from graphql.pyutils import Path, Undefined, inspect, is_iterable
from strawberry.schema.schema_converter import CustomGraphQLEnumType

from schema.compiled.run import PLAIN, Complete, ListRun, run_selection

if TYPE_CHECKING:
    from schema.compiled.plan import FieldPlan

# Completers of String, ID and Boolean leaves (and their non-null wrappers), by the one Python type they
# hand on unchanged: a list of only such values is its own completion (schema.compiled.complete.list_of).
_plain_items: weakref.WeakKeyDictionary[Complete, type] = weakref.WeakKeyDictionary()

# Picks the selection of an object type at run time (compiled on first use, for abstract types).
Selection = Callable[[Any, Any], "list[FieldPlan]"]


def info_of(ex: Any, field: FieldPlan, path: Path, info: Any) -> Any:
    """The resolve info, built only when completion needs it (plain attributes have none)."""
    return (
        info
        if info is not None
        else ex.build_resolve_info(field.field_def, field.nodes, field.parent_type, path)
    )


def leaf(type_: Any) -> Complete:
    coerce = type_.coerce_output_value
    # the values the type hands on as they are, by exact type: no call for the commonest values of all
    as_is = _as_is.get(type_)
    names = enum_names(type_) or {}
    members = type_.wrapped_cls if names else None

    def complete(ex: Any, field: FieldPlan, value: Any, path: Any, info: Any) -> Any:
        kind = type(value)
        if kind is as_is and (as_is is not int or GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT):
            return value
        if kind is members:
            return names[value]
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):
            raise value
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(type_)}.coerce_output_value({inspect(value)})` to return"
                f" non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    if as_is is str or as_is is bool:
        _plain_items[complete] = as_is
    return complete


# graphql-core's String and ID return a str as it is, Boolean a bool, Int an int within 32 bits
_as_is: dict[Any, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool, GraphQLInt: int}


def plain_type(type_: Any) -> type | None:
    """The one Python type a leaf type hands on unchanged with no check (str for String and ID, bool for
    Boolean); None for any other type (Int checks its range)."""
    found = _as_is.get(type_)
    return found if found is str or found is bool else None


def enum_names(type_: Any) -> dict[Any, str] | None:
    """strawberry's enum type names a member by searching its values: each member's name, found once."""
    if (
        not isinstance(type_, CustomGraphQLEnumType)
        or type(type_).coerce_output_value is not CustomGraphQLEnumType.coerce_output_value
    ):
        return None
    names: dict[Any, str] = {}
    members: Any = type_.wrapped_cls
    for member in members:
        try:
            names[member] = type_.coerce_output_value(member)
        except Exception:  # reported per value, as it would be
            return None
    return names


def non_null(inner: Complete, message: str) -> Complete:
    def complete(ex: Any, field: FieldPlan, value: Any, path: Any, info: Any) -> Any:
        completed = inner(ex, field, value, path, info)
        if completed is None:
            raise TypeError(message)
        return completed

    if inner in _plain_items:
        _plain_items[complete] = _plain_items[inner]
    return complete


def list_of(list_type: Any, item: Complete, where: str) -> Complete:
    item_type = list_type.of_type
    plain = _plain_items.get(item)

    def complete(ex: Any, field: FieldPlan, value: Any, path: Path, info: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):
            raise value
        if ex.is_async_iterable(value):  # graphql-core's own path for async iterables
            return ex.complete_list_value(
                list_type, field.details, info_of(ex, field, path, info), path, value, None
            )
        if not is_iterable(value):
            raise GraphQLError(f"Expected Iterable, but did not find one for field '{where}'.")
        items = list(value)
        # a 100,000-device fleet's `refs`: no item can fail or change, so none needs a path or a call
        if plain is not None and set(map(type, items)) == {plain}:
            return items
        return ListRun(ex, field, (item, item_type), items, (path, info)).start()

    return complete


def object_of(type_: Any, selection: Selection) -> Complete:
    is_type_of = type_.is_type_of

    def complete(ex: Any, field: FieldPlan, value: Any, path: Path, info: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):
            raise value
        fields = selection(ex, field)
        if is_type_of is None:
            return run_selection(ex, fields, value, path)
        matches = is_type_of(value, info_of(ex, field, path, info))
        if type(matches) not in PLAIN and ex.is_awaitable(matches):
            return _checked_later(ex, type_, (matches, value), fields, (field, path))
        if not matches:
            raise invalid_return_type_error(type_, value, field.details)
        return run_selection(ex, fields, value, path)

    return complete


async def _checked_later(
    ex: Any, type_: Any, check: tuple[Any, Any], fields: Any, where: tuple[Any, Path]
) -> Any:
    matches, value = check
    field, path = where
    if not await (matches if ex.abort_signal is None else ex.with_abort_signal(matches)):
        raise invalid_return_type_error(type_, value, field.details)
    done = run_selection(ex, fields, value, path)
    return await done if type(done) not in PLAIN and ex.is_awaitable(done) else done


def abstract(type_: Any, object_for: Callable[[Any, Any], Complete]) -> Complete:
    """An interface or union: the runtime type resolved as graphql-core does, its selection compiled once."""

    def complete(ex: Any, field: FieldPlan, value: Any, path: Path, info: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):
            raise value
        info = info_of(ex, field, path, info)
        resolve_type = type_.resolve_type or ex.type_resolver
        name = resolve_type(value, info, type_)
        if type(name) not in PLAIN and ex.is_awaitable(name):
            return _resolved_later(ex, (type_, object_for), (name, value), (field, path, info))
        runtime = ex.ensure_valid_runtime_type(name, type_, field.details, info, value)
        return object_for(ex, runtime)(ex, field, value, path, info)

    return complete


async def _resolved_later(
    ex: Any, how: tuple[Any, Any], what: tuple[Any, Any], where: tuple[Any, Path, Any]
) -> Any:
    type_, object_for = how
    name, value = what
    field, path, info = where
    name = await (name if ex.abort_signal is None else ex.with_abort_signal(name))
    runtime = ex.ensure_valid_runtime_type(name, type_, field.details, info, value)
    done = object_for(ex, runtime)(ex, field, value, path, info)
    return await done if type(done) not in PLAIN and ex.is_awaitable(done) else done
