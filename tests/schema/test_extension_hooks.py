"""Extension hooks planned once per class run exactly as strawberry's own wrapping runs them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema.extension_hooks import PlannedExtensionsRunner, plan, stage_plans

seen: list[str] = []


class Every(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        seen.append("operation in")
        yield
        seen.append("operation out")

    async def on_validate(self) -> AsyncIterator[None]:
        seen.append(f"validate {self.execution_context.query}")
        yield

    def on_parse(self) -> None:  # type: ignore[override]
        seen.append("parse")


class Later(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        seen.append("later in")
        yield
        seen.append("later out")


@strawberry.type
class Query:
    hello: str = "world"


class Planned(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return PlannedExtensionsRunner(execution_context=execution_context, extensions=extensions)


async def run(schema_class: type[strawberry.Schema]) -> tuple[Any, list[str]]:
    seen.clear()
    result = await schema_class(query=Query, extensions=[Every, Later]).execute("{ hello }")
    return result.data, list(seen)


async def test_planned_hooks_run_as_strawberry_runs_them() -> None:
    planned, theirs = await run(Planned), await run(strawberry.Schema)
    assert planned == theirs
    assert planned[1] == [
        "operation in",
        "later in",
        "parse",
        "validate { hello }",
        "later out",
        "operation out",
    ]


def test_each_class_is_planned_once() -> None:
    assert plan(Every, "on_operation") is plan(Every, "on_operation")
    assert plan(Later, "on_validate") is None
    assert plan(Every, "on_parse") is plan(Every, "on_parse") is not None
    assert stage_plans((Every, Later)) is stage_plans((Every, Later))
    assert [i for i, _, _ in stage_plans((Every, Later))["on_operation"]] == [0, 1]


class Swallows(SchemaExtension):
    """Catches what the stage raises and returns normally (strawberry still lets it through)."""

    def on_execute(self) -> Iterator[None]:
        seen.append("swallows in")
        try:
            yield
        except Exception as error:
            seen.append(f"swallowed {type(error).__name__}")
        seen.append("swallows out")


class RaisesOnExit(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        seen.append("raises in")
        yield
        seen.append("raises out")
        raise ValueError("on the way out")


class RaisesOnEntry(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        seen.append("entry")
        raise KeyError("on the way in")
        yield


class Watches(SchemaExtension):
    """Sees what passes through the whole operation, and lets it go on."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except Exception as error:
            seen.append(f"operation saw {type(error).__name__}")
            raise


class YieldsTwice(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        seen.append("after the first yield")
        yield


class NeverYields(SchemaExtension):
    async def on_parse(self) -> AsyncIterator[None]:
        seen.append("never yields")
        if self.execution_context is None:
            yield


class Results(SchemaExtension):
    async def on_parse(self) -> None:  # type: ignore[override]
        seen.append("coroutine parse")

    def get_results(self) -> dict[str, Any]:
        return {"results": [self.execution_context.query]}


@strawberry.type
class Failing:
    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("resolver")


EXTENSION_SETS = [
    [Every, Later, Swallows],
    [Swallows, RaisesOnExit, Later],
    [RaisesOnExit, Swallows],
    [Later, RaisesOnEntry, Every],
    [Watches, Later, RaisesOnEntry],
    [Watches, Swallows, YieldsTwice],
    [Watches, Later, NeverYields],
    [Results, Every, Swallows, RaisesOnExit],
]


async def outcome(schema_class: type[strawberry.Schema], extensions: list[Any], query: str) -> list[Any]:
    seen.clear()
    result = await schema_class(query=Failing, extensions=extensions).execute(query)
    errors = [(e.message, type(e.original_error).__name__) for e in result.errors or []]
    return [result.data, errors, result.extensions, list(seen)]


@pytest.mark.parametrize("extensions", EXTENSION_SETS)
@pytest.mark.parametrize("query", ["{ boom }", "{ boom", "{ nope }", "{ __typename }"])
async def test_hooks_that_raise_or_swallow_run_as_strawberry_runs_them(
    extensions: list[Any], query: str
) -> None:
    """Entries and exits in order, exceptions raised on the way in or out, or caught by a hook: the
    same errors, results and order of events through the planned stages as through strawberry's."""
    assert await outcome(Planned, extensions, query) == await outcome(strawberry.Schema, extensions, query)


def test_a_sync_execution_runs_the_planned_hooks_as_strawberry_does() -> None:
    def sync(schema_class: type[strawberry.Schema], extensions: list[Any]) -> list[Any]:
        seen.clear()
        result = schema_class(query=Failing, extensions=extensions).execute_sync("{ boom }")
        messages = [e.message.replace(str(id(e)), "") for e in result.errors or []]
        return [result.data, messages, list(seen)]

    assert sync(Planned, [Later, Swallows]) == sync(strawberry.Schema, [Later, Swallows])
    [message] = sync(Planned, [Every])[1]
    assert "on_validate failed to complete synchronously" in message
