"""One dataclass built field by field from another, derived once: rows into strawberry types, inputs inward."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

T = TypeVar("T")
Convert = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Nullable:
    """Convert a value that may be missing: None (or empty) stays None."""

    convert: Convert


def derive(
    target: type[T],
    source: type,
    *,
    renamed: Mapping[str, str] | None = None,
    converted: Mapping[str, Convert | Nullable | tuple[Convert, ...]] | None = None,
) -> Callable[[Any], T]:
    """`target(field=row.field, ...)` for every init field of `target`, written out once.

    `source` is a row dataclass (a strawberry type's `from_row`) or a strawberry input (the
    resolvers' input dataclass it becomes).

    Each field reads the row attribute of its name (or `renamed[field]`), through
    `converted[field]` when given (a tuple applies innermost first); a field named `row` keeps the
    row itself. A field of `target` the row lacks fails at import, so the two cannot drift apart.
    The function is generated as source, like dataclasses' own `__init__`: building an object
    costs what the hand-written copy cost, with no per-call reflection.
    """
    renamed = renamed or {}
    converted = converted or {}
    have = {f.name for f in dataclasses.fields(source)} | _properties(source)
    names: dict[str, object] = {"target": target}
    arguments = [_argument(f.name, renamed, converted, have, names) for f in _init_fields(target)]
    unknown = (set(renamed) | set(converted)) - {f.name for f in _init_fields(target)}
    if unknown:
        raise TypeError(f"{target.__name__} has no fields {sorted(unknown)}")
    code = f"def from_row(row):\n    return target({', '.join(arguments)})\n"
    exec(code, names)  # noqa: S102 - the text is built from field names checked above, never input
    made = cast(Callable[[Any], T], names["from_row"])
    made.__qualname__ = f"{target.__name__}.from_row"
    return made


def by_value(convert: Any) -> Any:
    """An Enum class as a converter becomes a lookup of its members by value, with the class itself
    only for what the table lacks (its errors and `_missing_` unchanged): `Status("DONE")` goes
    through EnumType.__call__ and costs some ten times a dict lookup, on every row of every page."""
    if not (isinstance(convert, type) and issubclass(convert, enum.Enum)):
        return convert
    members: dict[Any, Any] = convert._value2member_map_

    def member(value: Any) -> Any:
        try:
            found = members.get(value)
        except TypeError:  # unhashable: the class says what is wrong with it
            found = None
        return found if found is not None else convert(value)

    member.__qualname__ = f"{convert.__name__}.by_value"
    return member


def _init_fields(target: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(target) if f.init]


def _properties(source: type) -> set[str]:
    return {name for name in dir(source) if isinstance(getattr(source, name, None), property)}


def _argument(
    field: str,
    renamed: Mapping[str, str],
    converted: Mapping[str, Convert | Nullable | tuple[Convert, ...]],
    have: set[str],
    names: dict[str, object],
) -> str:
    if field == "row" and field not in renamed:
        return "row=row"
    attribute = renamed.get(field, field)
    if attribute not in have:
        raise TypeError(f"{field}: the row has no attribute {attribute!r}")
    value = f"row.{attribute}"
    convert = converted.get(field)
    if isinstance(convert, Nullable):
        names[f"_{field}"] = by_value(convert.convert)
        return f"{field}=_{field}({value}) if {value} else None"
    for index, step in enumerate(convert if isinstance(convert, tuple) else (convert,) if convert else ()):
        names[f"_{field}_{index}"] = by_value(step)
        value = f"_{field}_{index}({value})"
    return f"{field}={value}"
