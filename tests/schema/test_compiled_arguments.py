"""Resolver fields with arguments, extensions, permissions and errors: the compiled executor's
specialised strawberry calls answer exactly as graphql-core running strawberry's own wrapper."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import Callable, Iterator
from typing import Any, NewType

import pytest
import strawberry
from graphql import GraphQLError
from graphql.execution import values as values_module
from strawberry.extensions import FieldExtension, ParserCache
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig

from schema.compiled.calls import wrapped
from schema.compiled.executor import CompiledExecutor
from schema.slices import SlicedExecutor


def _hex(digits: int) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if (
            not isinstance(value, str)
            or len(value) != digits
            or any(c not in "0123456789abcdefABCDEF" for c in value)
        ):
            raise ValueError(f"expected {digits} hex digits")
        return value.upper()

    return parse


Hex4 = NewType("Hex4", str)
Hex8 = NewType("Hex8", str)
CONFIG = StrawberryConfig(
    scalar_map={
        Hex4: strawberry.scalar(name="Hex4", serialize=str, parse_value=_hex(4)),
        Hex8: strawberry.scalar(name="Hex8", serialize=str, parse_value=_hex(8)),
    }
)


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Window:
    start: int = 0
    end: int | None = None
    colours: list[Colour] = strawberry.field(default_factory=list)
    code: Hex4 | None = None
    label: str | None = strawberry.UNSET


@strawberry.input
class Search:
    window: Window
    note: str | None  # no default: strawberry gives it None when omitted
    windows: list[Window] | None = None
    words: list[str] | None = None
    nested: list[list[int]] | None = None


@strawberry.input
class Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("value must not be negative")


class Deny(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Allow(BasePermission):
    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return bool(kwargs.get("n", 1))  # sees the converted arguments


class Wrap(FieldExtension):
    """Wraps the result in its letter: the order extensions run in shows."""

    def __init__(self, letter: str) -> None:
        self.letter = letter

    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return f"{self.letter}({next_(source, info, **kwargs)} {sorted(kwargs)})"

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        return f"{self.letter}({await next_(source, info, **kwargs)} {sorted(kwargs)})"


class Refuse(FieldExtension):
    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        raise GraphQLError("refused", extensions={"code": "FORBIDDEN"})

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        raise GraphQLError("refused later", extensions={"code": "FORBIDDEN"})


class Doubled(FieldExtension):
    def map_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**kwargs, "n": kwargs["n"] * 2}


def shown(value: Any) -> str:
    """Python values as the resolver received them, types included."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}={shown(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return repr(value)


@strawberry.type
class Node:
    n: int

    @strawberry.field
    def parented(self, parent: strawberry.Parent[Node], plus: int = 1) -> int:
        return parent.n + plus

    @strawberry.field(extensions=[Wrap("A"), Wrap("B")])
    def wrapped(self, info: strawberry.Info, word: str = "w") -> str:
        return f"{info.field_name}:{word}:{self.n}"


@strawberry.type
class Query:
    @strawberry.field
    def search(
        self,
        search: Search,
        limit: int = 10,
        hex8: Hex8 | None = None,
        colours: list[Colour] | None = None,
        maybe: str | None = strawberry.UNSET,
    ) -> str | None:
        return shown([search, limit, hex8, colours, maybe])

    @strawberry.field
    async def async_search(self, search: Search, limit: int = 10, hex8: Hex8 | None = None) -> str | None:
        await asyncio.sleep(0)
        return shown([search, limit, hex8])

    @strawberry.field
    def echo_hex(self, code: Hex4) -> Hex4:
        return code

    @strawberry.field(permission_classes=[Deny])
    def denied(self) -> str | None:
        return "never"

    @strawberry.field(permission_classes=[Deny])
    async def denied_later(self) -> str | None:
        return "never"

    @strawberry.field(permission_classes=[Allow])
    def allowed(self, n: int = 1) -> int | None:
        return n

    @strawberry.field(extensions=[Refuse()])
    def refused(self) -> int | None:
        return 1

    @strawberry.field(extensions=[Refuse()])
    async def refused_later(self) -> int | None:
        return 1

    @strawberry.field(extensions=[Wrap("X"), Wrap("Y")])
    async def wrapped_later(self, ctx: strawberry.Info, word: str = "w") -> str:
        await asyncio.sleep(0)
        return f"{ctx.field_name}:{word}"

    @strawberry.field(extensions=[Doubled()])
    def doubled(self, n: int) -> int:
        return n

    @strawberry.field
    def failing(self) -> int | None:
        raise ValueError("sync failure")

    @strawberry.field
    async def failing_later(self) -> int | None:
        await asyncio.sleep(0)
        raise ValueError("async failure")

    @strawberry.field
    def checked(self, input: Checked) -> int | None:
        return input.value

    @strawberry.field
    async def checked_later(self, input: Checked) -> int | None:
        return input.value

    @strawberry.field
    def nodes(self, root: Any, count: int = 2) -> list[Node]:
        return [Node(n=i) for i in range(count)]

    @strawberry.field
    def grown(self, words: list[str], nested: list[list[int]] | None = None) -> str:
        """Changes the lists it is given: the next request must not see it."""
        words.append("+")
        if nested:
            nested[0].append(0)
        return shown([words, nested])

    @strawberry.field
    def grown_json(self, data: JSON) -> str:
        """The same for a JSON scalar, handed on as graphql-core coerced it (no conversion copies it)."""
        data.setdefault("seen", []).append(len(data))
        return shown(data)


FULL_SEARCH = {
    "window": {"start": 1, "end": 2, "colours": ["RED", "BLUE"], "code": "ab12", "label": "l"},
    "windows": [{"start": 5}, {"colours": ["BLUE"], "code": "FFFF"}],
    "words": ["x", "y"],
    "nested": [[1, 2], [3]],
}
VARIABLES_QUERY = (
    "query($s: Search!, $l: Int, $h: Hex8, $c: [Colour!], $m: String)"
    " { search(search: $s, limit: $l, hex8: $h, colours: $c, maybe: $m)"
    " asyncSearch(search: $s, limit: $l, hex8: $h) }"
)
CASES: list[tuple[str, dict[str, Any] | None]] = [
    (
        '{ search(search: {window: {start: 1, end: 2, colours: [RED, BLUE], code: "ab12"}, words: ["x"],'
        ' nested: [[1], [2, 3]], windows: [{start: 3}, {colours: [BLUE]}]}, limit: 3, hex8: "0011aabb",'
        ' colours: [BLUE], maybe: "m") }',
        None,
    ),
    ("{ search(search: {window: {}}) asyncSearch(search: {window: {end: 4}}) }", None),  # defaults, missing
    (
        "{ search(search: {window: {end: null, code: null, label: null}, windows: null, words: null},"
        " hex8: null, colours: null, maybe: null) }",
        None,
    ),
    (VARIABLES_QUERY, {"s": FULL_SEARCH, "l": 4, "h": "a1b2c3d4", "c": ["RED"], "m": "v"}),
    (VARIABLES_QUERY, {"s": {"window": {}}}),  # variables missing: the arguments' defaults, or absent
    (VARIABLES_QUERY, {"s": {"window": {"label": None}}, "h": None, "c": None, "m": None}),  # explicit nulls
    (VARIABLES_QUERY, {"s": {"window": {}}, "l": None}),  # null for a non-null argument: a field error
    (
        "query($w: Int!, $c: Colour!) { search(search: {window: {start: $w, colours: [$c, RED]}}) }",
        {"w": 9, "c": "BLUE"},
    ),
    ("query($w: Int) { search(search: {window: {start: $w}}) }", {}),  # a missing variable inside a literal
    ('query($x: Hex4!) { a: echoHex(code: $x) b: echoHex(code: "00ac") }', {"x": "beef"}),
    ("{ denied deniedLater allowed allowed0: allowed(n: 0) refused refusedLater }", None),
    ("query($n: Int!) { doubled(n: $n) literal: doubled(n: 5) allowed(n: $n) }", {"n": 21}),
    (
        '{ wrappedLater nodes { n parented wrapped(word: "z") } other: nodes(count: 1) { parented(plus: 5) } }',
        None,
    ),
    ("{ failing failingLater checked(input: {value: 2}) bad: checked(input: {value: -1}) }", None),
    # a conversion error in an async resolver is reported when awaited, after the sync errors
    ("{ checkedLater(input: {value: -1}) failing checked(input: {value: -3}) }", None),
    ("query($v: Checked!) { checked(input: $v) checkedLater(input: $v) }", {"v": {"value": -2}}),
    ('{ grown(words: ["a"], nested: [[1], [2]]) again: grown(words: ["a"], nested: [[1], [2]]) }', None),
]


def formatted(result: Any) -> tuple[Any, list[Any]]:
    return result.data, [e.formatted for e in result.errors or ()]


@pytest.fixture
def wrapper_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """graphql-core's execute_field, counted: the compiled executor must not go through it."""
    calls: list[str] = []
    original = SlicedExecutor.execute_field

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0].name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SlicedExecutor, "execute_field", counted)
    yield calls


@pytest.mark.parametrize(("query", "variables"), CASES)
async def test_arguments_extensions_and_errors_as_graphql_core(
    query: str, variables: dict[str, Any] | None, wrapper_calls: list[str]
) -> None:
    core = strawberry.Schema(Query, config=CONFIG, execution_context_class=SlicedExecutor)
    compiled = strawberry.Schema(Query, config=CONFIG, execution_context_class=CompiledExecutor)
    expected = await core.execute(query, variable_values=variables)
    assert wrapper_calls, "graphql-core ran the reference"
    wrapper_calls.clear()
    for _ in range(2):  # compiled on the first request, from the cache on the second
        assert formatted(await compiled.execute(query, variable_values=variables)) == formatted(expected)
    assert wrapper_calls == []


async def test_the_cases_reach_what_they_test() -> None:
    """A case that the reference answers with no data at all tests nothing of the resolvers."""
    core = strawberry.Schema(Query, config=CONFIG, execution_context_class=SlicedExecutor)
    results = [await core.execute(query, variable_values=variables) for query, variables in CASES]
    assert [query for (query, _), result in zip(CASES, results, strict=True) if result.data is None] == []
    messages = {e.message for result in results for e in result.errors or ()}
    assert {"not for you", "refused", "refused later", "sync failure", "async failure"} <= messages
    assert "value must not be negative" in messages
    assert any("not to be None" in m for m in messages), messages
    full = (await core.execute(VARIABLES_QUERY, variable_values=CASES[3][1])).data
    assert full is not None and "Window(start=1, end=2, colours=[<Colour.RED: 'red'>" in full["search"]
    assert "code='AB12'" in full["search"] and "'A1B2C3D4'" in full["search"]


def test_every_strawberry_resolver_is_specialised() -> None:
    """The specialisation must apply, or the tests above compare graphql-core with itself."""
    schema = strawberry.Schema(Query, config=CONFIG)._schema
    for type_name in ("Query", "Node"):
        fields = schema.type_map[type_name].fields  # type: ignore[attr-defined]
        resolved = {
            name: f for name, f in fields.items() if getattr(f.resolve, "__name__", "") != "_get_basic_result"
        }
        assert resolved and all(wrapped(f) is not None for f in resolved.values()), type_name


async def test_a_literal_input_is_coerced_once_and_handed_fresh_to_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Literal input objects and lists are coerced when the field is planned, not per request; each
    call gets its own copy, so a resolver that changes its input changes nothing for the next one."""
    coerced: list[object] = []
    original = values_module.coerce_input_literal

    def counted(*args: Any, **kwargs: Any) -> Any:
        coerced.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(values_module, "coerce_input_literal", counted)
    compiled = strawberry.Schema(
        Query, config=CONFIG, execution_context_class=CompiledExecutor, extensions=[ParserCache]
    )  # one parsed document, so one plan: as the gateway's own schema (schema/schema.py) caches them
    query = (
        '{ grown(words: ["a"], nested: [[1], [2]]) search(search: {window: {start: 7}})'
        ' grownJson(data: {k: [1, {m: "n"}]}) }'
    )
    answers = [formatted(await compiled.execute(query)) for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    data, errors = answers[0]
    assert errors == [] and data["grown"] == "[['a', '+'], [[1, 0], [2]]]", data
    assert data["grownJson"] == "{'k': [1, {'m': 'n'}], 'seen': [2]}", data
    planned = len(coerced)
    assert planned > 0
    await compiled.execute(query)
    assert len(coerced) == planned, "a literal was coerced again on a request after the first"
