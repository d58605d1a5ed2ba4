"""The compiled executor answers exactly as graphql-core does: data, errors, paths, null propagation, access."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import enum
from collections.abc import Iterator
from typing import Annotated, Any

import asyncpg
import pytest
import strawberry
from strawberry.extensions import FieldExtension, ParserCache

from resolvers.principal import ANONYMOUS, Principal
from schema.compiled.executor import PLANS_PER_OPERATION, CompiledExecutor
from schema.compiled.run import never_awaitable
from schema.limits import SchemaLimits
from schema.schema import build_schema
from schema.slices import SlicedExecutor
from tests.builders import SECAS, SUPPLIER, Builder, execute, publisher


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    a: int
    colour: Colour = Colour.RED
    tags: list[str] = strawberry.field(default_factory=lambda: ["x", "y"])
    # plain attributes of list type whose items break their type: errors at the item's full path
    broken_tags: list[str] = strawberry.field(default_factory=lambda: ["a", None])  # type: ignore[list-item]
    loose_numbers: list[int | None] = strawberry.field(default_factory=lambda: [1, "x", 3])  # type: ignore[list-item]
    # lists of plain strings and booleans are handed on whole; any other item takes the per-item path
    loose_tags: list[str] = strawberry.field(default_factory=lambda: ["a", 1, True, 2.5])  # type: ignore[list-item]
    maybe_tags: list[str | None] = strawberry.field(default_factory=lambda: [None, "b", None])
    flags: list[bool] = strawberry.field(default_factory=lambda: [True, False, True])
    loose_flags: list[bool] = strawberry.field(default_factory=lambda: [True, 0, 1])  # type: ignore[list-item]
    ids: list[strawberry.ID] = strawberry.field(
        default_factory=lambda: [strawberry.ID("1"), strawberry.ID("2")]
    )
    no_tags: list[str] = strawberry.field(default_factory=list)

    @strawberry.field
    def boom(self) -> int:
        raise ValueError(f"boom {self.a}")

    @strawberry.field
    def maybe(self) -> int | None:
        raise ValueError(f"maybe {self.a}")

    @strawberry.field
    def nothing(self) -> int:
        return None  # type: ignore[return-value] - a resolver breaking its contract

    @strawberry.field
    async def later(self, plus: int = 0) -> int:
        await asyncio.sleep(0)
        return self.a + plus

    @strawberry.field
    async def later_boom(self) -> int:
        await asyncio.sleep(0)
        raise ValueError(f"later boom {self.a}")

    @strawberry.field
    def wrong(self) -> int:
        return "not a number"  # type: ignore[return-value]

    @strawberry.field
    def child(self) -> Leaf | None:
        return Leaf(a=self.a * 10) if self.a < 100 else None


@strawberry.type
class Other:
    b: str


class StrSub(str):
    """A str that is not exactly str: completed through String's own coercion."""


class Raising:
    """An attribute that raises when read, as a plain attribute's getter may."""

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return "x"  # the dataclass default
        raise ValueError("no such value")

    def __set__(self, obj: Any, value: Any) -> None:
        pass


@strawberry.type
class Loose:
    """Plain leaf attributes, each holding what its type would not hand on as it is: completed by the
    type (or refused) as graphql-core does, not by run_selection's shortcut."""

    text: str = "plain"
    number_text: str = 5  # type: ignore[assignment]
    flag: bool = True
    number_flag: bool = 0  # type: ignore[assignment]
    missing_text: str = None  # type: ignore[assignment]
    maybe_text: str | None = None
    colour: Colour = Colour.BLUE
    colour_value: Colour = "red"  # type: ignore[assignment]
    not_a_colour: Colour | None = "nope"  # type: ignore[assignment]
    ident: strawberry.ID = strawberry.ID("7")
    str_subclass: str = StrSub("sub")  # type: ignore[assignment]
    broken: str = strawberry.field(default="x")


class BrokenLoose(Loose):
    broken = Raising()  # type: ignore[assignment]


class Later:
    """Awaitable by its type's __await__, neither a coroutine nor a future."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from asyncio.sleep(0).__await__()
        return self.value


class Lookalike:
    """Answers every attribute, __await__ included: graphql-core takes it for awaitable."""

    def __getattr__(self, name: str) -> Any:
        return None


Thing = Annotated[Leaf | Other, strawberry.union("Thing")]


@strawberry.type
class Query:
    @strawberry.field
    def leaves(self, count: int = 3) -> list[Leaf]:
        return [Leaf(a=i) for i in range(count)]

    @strawberry.field
    def maybe_leaves(self, count: int = 3) -> list[Leaf | None] | None:
        return [Leaf(a=i) if i % 2 else None for i in range(count)]

    @strawberry.field
    async def async_leaves(self, count: int = 3) -> list[Leaf]:
        await asyncio.sleep(0)
        return [Leaf(a=i) for i in range(count)]

    @strawberry.field
    def leaf(self, a: int, colour: Colour = Colour.BLUE) -> Leaf | None:
        return Leaf(a=a, colour=colour)

    @strawberry.field
    def things(self) -> list[Thing]:
        return [Leaf(a=1), Other(b="two"), Leaf(a=3)]

    @strawberry.field
    def with_errors(self) -> list[int | None]:
        return [1, ValueError("item"), 3]  # type: ignore[list-item] - graphql-core reports it at the index

    @strawberry.field
    def strict_with_errors(self) -> list[int]:
        return [1, ValueError("strict item"), 3]  # type: ignore[list-item]

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]

    @strawberry.field
    def echo(self, words: list[str], times: int = 1) -> str:
        return " ".join(words) * times

    @strawberry.field
    def edge_numbers(self) -> list[int | None]:
        return [1, 2**31, True, -(2**31), 2.0, 2**31 - 1]  # type: ignore[list-item] - Int's edges

    @strawberry.field
    def edge_flags(self) -> list[bool | None]:
        return [True, 1, 0, "yes"]  # type: ignore[list-item]

    @strawberry.field
    def awaitables(self) -> list[int | None]:
        return [Later(1), 2, Later(3)]  # type: ignore[list-item]

    @strawberry.field
    def later_object(self) -> int:
        return Later(4)  # type: ignore[return-value]

    @strawberry.field
    def lookalike(self) -> int | None:
        return Lookalike()  # type: ignore[return-value]

    @strawberry.field
    def loose(self) -> list[Loose]:  # the second's `broken` raises when read
        return [Loose(), BrokenLoose()]

    @strawberry.field
    def raw_colours(self) -> list[Colour | None]:
        return [Colour.BLUE, "red", "nope", Colour.RED]  # type: ignore[list-item] - values, not members


@strawberry.type
class Mutation:
    @strawberry.mutation
    def double(self, a: int) -> Leaf:
        return Leaf(a=2 * a)


QUERIES = [
    "{ leaves { a colour tags __typename } }",
    "{ x: leaves(count: 2) { y: a a } leaves { a } }",
    "{ leaves { a maybe } }",
    "{ leaves { a boom } }",  # non-null error: the list item is non-null too, so the list and then data go
    "{ maybeLeaves(count: 4) { a boom } }",  # nulls the item only
    "{ maybeLeaves(count: 4) { a nothing } }",
    "{ maybeLeaves(count: 4) { a wrong } }",
    "{ asyncLeaves { a later laterBoom } }",
    "{ maybeLeaves(count: 5) { later(plus: 2) child { a child { a later } } } }",
    "{ maybeLeaves(count: 3) { laterBoom } leaf(a: 1) { later } }",
    "{ leaf(a: 4, colour: RED) { colour child { colour } } }",
    "{ things { __typename ... on Leaf { a later } ... on Other { b } } }",
    "{ withErrors }",
    "{ strictWithErrors leaf(a: 1) { a } }",
    "{ notAList leaf(a: 2) { a } }",
    '{ echo(words: ["a", "b"], times: 2) }',
    "query($w: [String!]!, $t: Int) { echo(words: $w, times: $t) }",
    "{ ...F leaf(a: 3) { ...G } } fragment F on Query { leaves(count: 1) { a } } fragment G on Leaf { a colour }",
    "query($s: Boolean!) { leaves(count: 1) { a @skip(if: $s) colour @include(if: $s) ... @include(if: $s) { tags } } }",
    "{ __typename leaf(a: 1) { __typename } }",
    "{ maybeLeaves(count: 4) { a brokenTags } }",
    "{ leaves(count: 2) { looseNumbers } }",  # the same index broken in two lists: two errors
    "{ leaves(count: 2) { tags looseTags maybeTags flags looseFlags ids noTags } }",
    "{ edgeNumbers edgeFlags rawColours }",
    "{ loose { text numberText flag numberFlag maybeText colour colourValue notAColour ident strSubclass } }",
    "{ loose { missingText } }",
    "{ loose { text broken } }",
    "{ awaitables laterObject leaves(count: 2) { a } lookalike awaitables2: awaitables }",
]
VARIABLES: dict[str, dict[str, Any]] = {
    "query($w": {"w": ["p", "q"], "t": 3},
    "query($s": {"s": True},
}


def formatted(result: Any) -> tuple[Any, list[Any]]:
    return result.data, [e.formatted for e in result.errors or ()]


@pytest.fixture
def field_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """graphql-core's execute_field, counted: the compiled executor must not go through it."""
    calls: list[str] = []
    original = SlicedExecutor.execute_field

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0].name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SlicedExecutor, "execute_field", counted)
    yield calls


@pytest.mark.parametrize("query", QUERIES)
async def test_same_answer_as_graphql_core(query: str, field_calls: list[str]) -> None:
    core = strawberry.Schema(Query, types=[Other], execution_context_class=SlicedExecutor)
    compiled = strawberry.Schema(Query, types=[Other], execution_context_class=CompiledExecutor)
    variables = next((v for k, v in VARIABLES.items() if query.startswith(k)), None)
    expected = await core.execute(query, variable_values=variables)
    assert field_calls, "graphql-core ran the reference"
    field_calls.clear()
    for _ in range(2):  # compiled on the first request, from the cache on the second
        assert formatted(await compiled.execute(query, variable_values=variables)) == formatted(expected)
    assert field_calls == []


def test_only_types_never_awaitable_are_learned() -> None:
    assert never_awaitable(Leaf) and never_awaitable(Colour) and never_awaitable(Other)
    assert not never_awaitable(Later) and not never_awaitable(Lookalike)
    assert not never_awaitable(asyncio.Future) and not never_awaitable(asyncio.Task)
    coroutine = asyncio.sleep(0)
    assert not never_awaitable(type(coroutine))
    coroutine.close()


class StrStatus(enum.StrEnum):
    DONE = "DONE"


class AwaitableText(str):
    def __await__(self) -> Any:
        yield


class LookingDate(dt.date):
    def __getattribute__(self, name: str) -> Any:
        return object.__getattribute__(self, name)


def test_rows_dates_and_str_enums_are_learned_but_not_their_customised_kin() -> None:
    """The values of most leaves: a built-in base's own __getattribute__ entry is the generic lookup."""
    assert never_awaitable(dt.date) and never_awaitable(dt.datetime) and never_awaitable(StrStatus)
    assert never_awaitable(decimal.Decimal)
    assert not never_awaitable(AwaitableText) and not never_awaitable(LookingDate)


async def test_skip_and_include_compile_one_plan_per_value(field_calls: list[str]) -> None:
    compiled = strawberry.Schema(Query, execution_context_class=CompiledExecutor)
    query = "query($s: Boolean!) { leaves(count: 1) { a @skip(if: $s) colour @include(if: $s) } }"
    on = await compiled.execute(query, variable_values={"s": True})
    off = await compiled.execute(query, variable_values={"s": False})
    assert on.data == {"leaves": [{"colour": "RED"}]} and off.data == {"leaves": [{"a": 0}]}
    assert field_calls == []


async def test_switch_combinations_past_the_cap_run_on_graphql_core(field_calls: list[str]) -> None:
    # plans are kept per parsed document: the parser cache hands every request the same one, as FIR's does
    compiled = strawberry.Schema(Query, execution_context_class=CompiledExecutor, extensions=[ParserCache])
    switches = [f"s{i}" for i in range(6)]
    query = (
        f"query({', '.join(f'${s}: Boolean!' for s in switches)}) {{ leaves(count: 1) {{ a "
        + " ".join(f"x{i}: a @skip(if: ${s})" for i, s in enumerate(switches))
        + " } }"
    )
    for combination in range(PLANS_PER_OPERATION + 3):
        variables = {s: bool(combination >> i & 1) for i, s in enumerate(switches)}
        result = await compiled.execute(query, variable_values=variables)
        assert result.errors is None and len(result.data["leaves"][0]) == 1 + sum(
            not v for v in variables.values()
        )
        assert (field_calls != []) == (combination >= PLANS_PER_OPERATION), combination
        field_calls.clear()


async def test_introspection_and_mutations_run_on_graphql_core(field_calls: list[str]) -> None:
    compiled = strawberry.Schema(Query, Mutation, execution_context_class=CompiledExecutor)
    result = await compiled.execute("{ __schema { queryType { name } } }")
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}
    assert field_calls == ["Query", "__Schema", "__Type"]
    field_calls.clear()
    result = await compiled.execute("mutation { double(a: 2) { a } }")
    assert result.data == {"double": {"a": 4}} and field_calls == ["Mutation", "Leaf"]


class Tagging(FieldExtension):
    """Wraps a field's result in its tag, so that the order field extensions ran in shows in the answer."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return f"{self.tag}({next_(source, info, **kwargs)})"


@strawberry.type
class Wrapped:
    @strawberry.field(extensions=[Tagging("one")])
    def once(self, word: str) -> str:
        return word

    @strawberry.field(extensions=[Tagging("outer"), Tagging("inner")])
    def twice(self, word: str) -> str:
        return word


async def test_field_extensions_chain_as_on_graphql_core(field_calls: list[str]) -> None:
    """One extension is called with the resolver directly, two or more nest as strawberry nests them."""
    query = '{ once(word: "a") twice(word: "b") }'
    core = strawberry.Schema(Wrapped, execution_context_class=SlicedExecutor)
    expected = await core.execute(query)
    assert expected.data == {
        "once": "one(a)",
        "twice": "inner(outer(b))",
    }  # strawberry: the last is outermost
    field_calls.clear()
    compiled = strawberry.Schema(Wrapped, execution_context_class=CompiledExecutor)
    assert formatted(await compiled.execute(query)) == formatted(expected)
    assert field_calls == []


# --- the FIR schema, every principal, compiled against graphql-core ---------------------------------

FIR_QUERIES = [
    """query($id: DeviceIdentityInput!) { device(identity: $id) {
      identity { manufacturerId modelId hardwareVersion firmwareVersion } onCpl isLatest
      cplEntry { number status release { version submittedBy } } model { name manufacturer { name website } }
      current { version publishedBy withdrawnReason } latest { version releaseDate upgradableFrom { version } }
      upgradePath { version cplEntryNumber } lineage { id version status urgency advisories cplEntry { number } }
      contacts { role name email phone } } }""",
    """{ fleetStatus(devices: [
      {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "00000001"},
      {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "1.2.3"},
      {manufacturerId: "1063", modelId: "0001", hardwareVersion: "0001", firmwareVersion: "00000009"}]) {
      total distinct upToDate outdated notOnCpl noUpgradePath invalid problems { index field message }
      groups { count refs status { onCpl latest { version } upgradePath { version } } } } }""",
    "{ manufacturers { nodes { manufacturerId name website contacts { role } deviceModels { modelId } } } }",
    "{ cplEntries(first: 5) { edges { cursor node { number status release { version publishedBy } } } pageInfo { hasNextPage } } }",
    "{ firmwareReleases(first: 10) { nodes { id version status submittedBy publishedBy model { name } } } }",
    "{ auditLog(first: 3) { nodes { action entityType } } }",
    '{ _entities(representations: [{__typename: "Manufacturer", manufacturerId: "106C"},'
    ' {__typename: "FirmwareRelease", id: "1"}, {__typename: "Nope", id: "1"}, {__typename: "CplEntry"}])'
    " { __typename ... on Manufacturer { name website } ... on FirmwareRelease { version publishedBy } } }",
    "{ _service { sdl } }",
]
PRINCIPALS: dict[str, Principal] = {
    "anonymous": ANONYMOUS,
    "supplier": SUPPLIER,
    "maker_106C": publisher("106C"),
    "maker_1063": publisher("1063"),
    "secas": SECAS,
}
IDENTITY = {
    "manufacturerId": "106c",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000001",
}


@pytest.fixture
async def catalogue(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        for mid in ("106C", "1063"):
            await b.manufacturer(mid)
        await b.model("106C", "4331", "CHF")
        await b.model("1063", "0001")
        await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01")
        await b.release("106C", "4331", "00AC", "00000002", date="2021-01-01", upgradable_from=("00000001",))
        await b.release("106C", "4331", "00AC", "00000003", date="2022-01-01", status="WITHDRAWN")
        await b.release("106C", "4331", "00AC", "00000004", date="2023-01-01", upgradable_from=("00000002",))
        await b.release(
            "106C", "4331", "00AC", "00000005", date="2024-01-01", status="SUBMITTED", cpl_status=None
        )
        await b.release("1063", "0001", "0001", "00000009", date="2024-01-01")


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_fir_schema_answers_as_graphql_core(
    pool: asyncpg.Pool, catalogue: None, principal: str, field_calls: list[str]
) -> None:
    core = build_schema(SchemaLimits(compiled_executor=False))
    compiled = build_schema(SchemaLimits(compiled_executor=True))
    who = PRINCIPALS[principal]
    codes: set[str] = set()
    for query in FIR_QUERIES:
        variables = {"id": IDENTITY} if "$id" in query else {}
        expected = formatted(await execute(core, pool, query, who, **variables))
        field_calls.clear()
        assert formatted(await execute(compiled, pool, query, who, **variables)) == expected, query
        assert field_calls == [], query
        codes |= {error["extensions"]["code"] for error in expected[1]}
    # refusals and malformed representations are part of what must agree
    assert "FORBIDDEN" in codes or principal == "secas", codes
    assert "BAD_USER_INPUT" in codes
