"""Running a compiled plan: each field resolved and completed as graphql-core does, without its per-field dispatch."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Awaitable, Callable
from types import CoroutineType, GeneratorType
from typing import TYPE_CHECKING, Any, cast

from graphql.execution import executor as executor_module
from graphql.pyutils import Path
from graphql.pyutils.is_awaitable import is_awaitable as default_is_awaitable
from strawberry.execution.is_awaitable import optimized_is_awaitable

from schema.slices import SlicedList

if TYPE_CHECKING:
    from schema.compiled.plan import FieldPlan

# Types whose values are never awaitable: the check graphql-core makes on every value is skipped for
# them. It starts with the builtins and learns the others (rows, enums, dates) as values are checked.
PLAIN: set[Any] = {str, int, float, bool, type(None), dict, list, tuple}
# bounded: classes made at run time must not grow it for ever
PLAIN_MAX = 4096
KNOWN_CHECKS: frozenset[Any] = frozenset([optimized_is_awaitable, cast(Any, default_is_awaitable)])

Complete = Callable[[Any, "FieldPlan", Any, Any, Any], Any]


def learning(is_awaitable: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """graphql-core's or strawberry's is_awaitable, which decide by the value's type: a type found
    never awaitable joins PLAIN. Any other predicate is kept as it is, and learns nothing."""
    return LEARNERS.get(is_awaitable, is_awaitable)


def _learner(is_awaitable: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if is_awaitable(value):
            return True
        kind = type(value)
        if len(PLAIN) < PLAIN_MAX and never_awaitable(kind):
            PLAIN.add(kind)
        return False

    return check


# one per known predicate, shared by every request: the checks keep no state of their own (PLAIN is global)
LEARNERS: dict[Any, Callable[[Any], bool]] = {check: _learner(check) for check in KNOWN_CHECKS}


# Built-in types whose `__getattribute__` slot is the generic one (their own entry in vars() is a slot
# wrapper, not a customisation): a str enum, a date or a Decimal looks attributes up as object does.
GENERIC_LOOKUP: frozenset[type] = frozenset(
    {object, str, int, float, bytes, dt.date, dt.datetime, dt.time, dt.timedelta, decimal.Decimal}
)


def never_awaitable(kind: type) -> bool:
    """Both checks read the type only (coroutine, generator, __await__) unless attribute lookup is
    customised; an instance's own __await__ attribute is disregarded, as Python's await does."""
    mro = kind.__mro__
    return (
        next(c for c in mro if "__getattribute__" in vars(c)) in GENERIC_LOOKUP
        and not any("__getattr__" in vars(c) or "__await__" in vars(c) for c in mro)
        and "__class__" not in vars(kind)
        and not issubclass(kind, CoroutineType | GeneratorType)
    )


def run_selection(ex: Any, fields: list[FieldPlan], source: Any, path: Path | None) -> Any:
    """graphql-core's execute_fields: every field in order, the awaitable ones gathered together."""
    results: dict[str, Any] = {}
    pending: list[str] = []
    is_awaitable = ex.is_awaitable
    try:
        for field in fields:
            if field.quick:  # a plain leaf attribute: the usual values need no call at all
                try:
                    value = field.getter(source)
                except Exception as raw:
                    ex.handle_field_error(
                        raw, field.return_type, field.details, Path(path, field.name, field.parent_name)
                    )
                    results[field.name] = None
                    continue
                kind = type(value)
                if kind is field.as_is:
                    results[field.name] = value
                    continue
                if kind is field.members:
                    results[field.name] = field.names[value]
                    continue
                value = leaf_value(ex, field, value, path)
            else:
                value = field.run(ex, field, source, path)
            results[field.name] = value
            if type(value) not in PLAIN and is_awaitable(value):
                pending.append(field.name)
    except Exception:
        if pending:
            ex.settle_in_background([results[name] for name in pending])
        raise
    return _gathered(results, pending) if pending else results


async def _gathered(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
    else:
        values = await executor_module.gather_with_cancel(*(results[name] for name in pending))  # type: ignore[attr-defined]
        results.update(zip(pending, values, strict=True))
    return results


def run_typename(ex: Any, field: FieldPlan, source: Any, parent: Path | None) -> Any:
    return field.typename


def run_leaf_attribute(ex: Any, field: FieldPlan, source: Any, parent: Path | None) -> Any:
    """A plain attribute of a scalar or enum type: no info, and a path only if something goes wrong."""
    try:
        value = field.getter(source)
    except Exception as raw:
        ex.handle_field_error(
            raw, field.return_type, field.details, Path(parent, field.name, field.parent_name)
        )
        return None
    return leaf_value(ex, field, value, parent)


def leaf_value(ex: Any, field: FieldPlan, value: Any, parent: Path | None) -> Any:
    """A leaf attribute's value completed (run_selection answers a str, bool or enum member itself)."""
    try:
        if type(value) in PLAIN or not ex.is_awaitable(value):
            return field.complete(ex, field, value, None, None)
        return complete_awaitable(ex, field, value, Path(parent, field.name, field.parent_name), None)
    except Exception as raw:
        ex.handle_field_error(
            raw, field.return_type, field.details, Path(parent, field.name, field.parent_name)
        )
        return None


def run_attribute(ex: Any, field: FieldPlan, source: Any, parent: Path | None) -> Any:
    """A plain attribute of an object or list type."""
    path = Path(parent, field.name, field.parent_name)
    try:
        return _completed(ex, field, field.getter(source), path, None)
    except Exception as raw:
        ex.handle_field_error(raw, field.return_type, field.details, path)
        return None


def run_resolver(ex: Any, field: FieldPlan, source: Any, parent: Path | None) -> Any:
    """A field with a resolver (strawberry's wrapper: its guards, extensions and argument conversion)."""
    path = Path(parent, field.name, field.parent_name)
    info = ex.build_resolve_info(field.field_def, field.nodes, field.parent_type, path)
    try:
        return _completed(ex, field, field.resolve(source, info, **field.arguments(ex)), path, info)
    except Exception as raw:
        ex.handle_field_error(raw, field.return_type, field.details, path)
        return None


def run_call(ex: Any, field: FieldPlan, source: Any, parent: Path | None) -> Any:
    """A strawberry resolver, through its wrapper specialised at plan time (schema.compiled.calls)."""
    path = Path(parent, field.name, field.parent_name)
    info = ex.build_resolve_info(field.field_def, field.nodes, field.parent_type, path)
    try:
        return _completed(ex, field, field.call(source, info, field.arguments(ex)), path, info)
    except Exception as raw:
        ex.handle_field_error(raw, field.return_type, field.details, path)
        return None


def _completed(ex: Any, field: FieldPlan, value: Any, path: Path, info: Any) -> Any:
    if type(value) not in PLAIN and ex.is_awaitable(value):
        return complete_awaitable(ex, field, value, path, info)
    completed = field.complete(ex, field, value, path, info)
    if type(completed) not in PLAIN and ex.is_awaitable(completed):
        return _awaited(ex, field, field.return_type, completed, path)
    return completed


async def complete_awaitable(ex: Any, field: FieldPlan, value: Awaitable[Any], path: Path, info: Any) -> Any:
    try:
        resolved = await (value if ex.abort_signal is None else ex.with_abort_signal(value))
        completed = field.complete(ex, field, resolved, path, info)
        if type(completed) not in PLAIN and ex.is_awaitable(completed):
            completed = await completed
    except Exception as raw:
        ex.handle_field_error(raw, field.return_type, field.details, path)
        return None
    return completed


async def _awaited(ex: Any, field: FieldPlan, type_: Any, completed: Awaitable[Any], path: Path) -> Any:
    try:
        return await completed
    except Exception as raw:
        ex.handle_field_error(raw, type_, field.details, path)
        return None


class ListRun(SlicedList):
    """One list's items completed in slices of the loop, as schema.slices does for graphql-core."""

    __slots__ = (
        "awaitable",
        "complete",
        "completed",
        "ex",
        "field",
        "index",
        "info",
        "item_type",
        "items",
        "path",
    )

    def __init__(
        self, ex: Any, field: FieldPlan, item: tuple[Complete, Any], items: list[Any], where: tuple[Path, Any]
    ) -> None:
        self.ex, self.field, self.items = ex, field, items
        self.complete, self.item_type = item
        self.path, self.info = where
        self.index = 0
        self.completed: list[Any] = []
        self.awaitable: list[int] = []

    def step(self) -> None:
        ex, field, items, complete, path, info = (
            self.ex,
            self.field,
            self.items,
            self.complete,
            self.path,
            self.info,
        )
        completed, awaitable, spent, is_awaitable = (
            self.completed,
            self.awaitable,
            ex.slice.spent,
            ex.is_awaitable,
        )
        index, end = self.index, len(items)
        try:
            while index < end and not spent():
                item, item_path = items[index], Path(path, index, None)
                if type(item) not in PLAIN and is_awaitable(item):
                    completed.append(self.awaited_item(item, item_path))
                    awaitable.append(index)
                else:
                    try:
                        done = complete(ex, field, item, item_path, info)
                        if type(done) not in PLAIN and is_awaitable(done):
                            done = _awaited(ex, field, self.item_type, done, item_path)
                            awaitable.append(index)
                    except Exception as raw:
                        ex.handle_field_error(raw, self.item_type, field.details, item_path)
                        done = None
                    completed.append(done)
                index += 1
        finally:
            self.index = index

    async def awaited_item(self, item: Awaitable[Any], item_path: Path) -> Any:
        ex = self.ex
        try:
            resolved = await (item if ex.abort_signal is None else ex.with_abort_signal(item))
            completed = self.complete(ex, self.field, resolved, item_path, self.info)
            if type(completed) not in PLAIN and ex.is_awaitable(completed):
                completed = await completed
        except Exception as raw:
            ex.handle_field_error(raw, self.item_type, self.field.details, item_path)
            return None
        return completed
