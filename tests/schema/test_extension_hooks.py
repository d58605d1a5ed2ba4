"""Extension hooks planned once per class run exactly as strawberry's own wrapping runs them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema.extension_hooks import NOT_PLANNED, PlannedExtensionsRunner, plan

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
    assert plan(Every, "on_parse") == NOT_PLANNED
