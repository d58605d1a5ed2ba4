"""strawberry's extension runner, with each stage's hooks planned once per set of extension classes, not per request."""

from __future__ import annotations

import contextlib
import inspect
from asyncio import iscoroutinefunction
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

# What a hook becomes: a generator function taking the extension (its code up to `yield` runs before
# the stage, the rest after), and whether it is an async generator.
Plan = tuple[Callable[[SchemaExtension], Any], bool]
# A stage's hooks for one tuple of extension classes: (index of the extension, generator function, is async).
StagePlan = tuple[tuple[int, Callable[[SchemaExtension], Any], bool], ...]
STAGES = ("on_operation", "on_validate", "on_parse", "on_execute")

_plans: dict[tuple[type[SchemaExtension], str], Plan | None] = {}
_stage_plans: dict[tuple[type[SchemaExtension], ...], dict[str, StagePlan]] = {}
_results: dict[tuple[type[SchemaExtension], ...], tuple[int, ...]] = {}


def plan(kind: type[SchemaExtension], hook_name: str) -> Plan | None:
    """strawberry inspects and decorates every hook of every extension on every request (four stages,
    ten extensions here); the answer depends only on the class, so it is worked out once."""
    key = (kind, hook_name)
    if key not in _plans:
        _plans[key] = planned(kind, hook_name)
    return _plans[key]


def planned(kind: type[SchemaExtension], hook_name: str) -> Plan | None:
    """strawberry's `ExtensionContextManagerBase.get_hook`, for the class instead of each instance."""
    hook = getattr(kind, hook_name)
    if hook is getattr(SchemaExtension, hook_name):
        return None
    if inspect.isgeneratorfunction(hook):
        return hook, False
    if inspect.isasyncgenfunction(hook):
        return hook, True
    if callable(hook):
        return from_callable(hook)
    raise ValueError(f"Hook {hook_name} on {kind} must be callable, received {hook!r}")


def from_callable(func: Callable[[SchemaExtension], Any]) -> Plan:
    """A plain or coroutine-function hook runs before the stage, as strawberry's `from_callable` runs it."""
    if iscoroutinefunction(func):

        async def awaited(extension: SchemaExtension) -> AsyncIterator[None]:
            await func(extension)
            yield

        return awaited, True

    def called(extension: SchemaExtension) -> Iterator[None]:
        func(extension)
        yield

    return called, False


def stage_plans(kinds: tuple[type[SchemaExtension], ...]) -> dict[str, StagePlan]:
    found = _stage_plans.get(kinds)
    if found is None:
        found = _stage_plans[kinds] = {
            stage: tuple(
                (index, *hook) for index, kind in enumerate(kinds) if (hook := plan(kind, stage)) is not None
            )
            for stage in STAGES
        }
    return found


def with_results(kinds: tuple[type[SchemaExtension], ...]) -> tuple[int, ...]:
    """The extensions whose class has results to add (SchemaExtension's own `get_results` adds none)."""
    found = _results.get(kinds)
    if found is None:
        default = SchemaExtension.get_results
        found = _results[kinds] = tuple(i for i, kind in enumerate(kinds) if kind.get_results is not default)
    return found


class Stage(ExtensionContextManagerBase):
    """One stage's hooks: each generator is run to its `yield` in order and on from it in reverse, as
    strawberry's `contextmanager` wrappers in its exit stack run them, without building either when
    nothing raises. An exception (received, or raised by a hook on the way out) hands the generators
    still suspended, wrapped as `contextmanager` wraps them, to a real (Async)ExitStack, so contextlib's
    own rules decide what follows."""

    def __init__(self, extensions: list[SchemaExtension], hooks: StagePlan) -> None:
        self.extensions = extensions
        self.planned = hooks
        self.entered: list[tuple[Any, bool]] = []

    async def __aenter__(self) -> None:
        entered = self.entered
        extensions = self.extensions
        for index, hook, is_async in self.planned:
            generator = hook(extensions[index])
            if is_async:
                try:
                    await generator.__anext__()
                except StopAsyncIteration:
                    raise RuntimeError("generator didn't yield") from None
            else:
                try:
                    next(generator)
                except StopIteration:
                    raise RuntimeError("generator didn't yield") from None
            entered.append((generator, is_async))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Never suppresses, as strawberry's own stage does not (whatever a hook answers)."""
        if exc_type is not None:
            await self._unwind(exc_type, exc_val, exc_tb)
            return
        entered = self.entered
        while entered:
            generator, is_async = entered.pop()
            try:
                if is_async:
                    await _finish_async(generator)
                else:
                    _finish(generator)
            except BaseException as error:
                if await self._unwind(type(error), error, error.__traceback__):
                    return  # a hook further out swallowed it, as nested `with`s would
                raise

    async def _unwind(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        stack = contextlib.AsyncExitStack()
        for generator, is_async in self.entered:
            if is_async:
                stack.push_async_exit(_async_manager(generator))
            else:
                stack.push(_manager(generator))
        self.entered = []
        return bool(await stack.__aexit__(exc_type, exc_val, exc_tb))

    def __enter__(self) -> None:
        for index, hook, is_async in self.planned:
            extension = self.extensions[index]
            if is_async:
                raise RuntimeError(
                    f"SchemaExtension hook {extension}.{self.HOOK_NAME} failed to complete synchronously."
                )
            generator = hook(extension)
            try:
                next(generator)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None
            self.entered.append((generator, is_async))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        stack = contextlib.ExitStack()
        for generator, _ in self.entered:
            stack.push(_manager(generator))
        self.entered = []
        stack.__exit__(exc_type, exc_val, exc_tb)


def _finish(generator: Any) -> None:
    """`contextmanager`'s exit when nothing was raised: the generator must end after its one yield."""
    try:
        next(generator)
    except StopIteration:
        return
    try:
        raise RuntimeError("generator didn't stop")
    finally:
        generator.close()


async def _finish_async(generator: Any) -> None:
    try:
        await generator.__anext__()
    except StopAsyncIteration:
        return
    try:
        raise RuntimeError("generator didn't stop")
    finally:
        await generator.aclose()


def _manager(generator: Any) -> contextlib._GeneratorContextManager[None]:
    """The object `contextmanager` would have made around this (already entered) generator: its exit
    is the one that handles an exception."""
    manager: contextlib._GeneratorContextManager[None] = object.__new__(contextlib._GeneratorContextManager)
    manager.gen = generator
    return manager


def _async_manager(generator: Any) -> contextlib._AsyncGeneratorContextManager[None]:
    manager: contextlib._AsyncGeneratorContextManager[None] = object.__new__(
        contextlib._AsyncGeneratorContextManager
    )
    manager.gen = generator
    return manager


class Operation(Stage, OperationContextManager):
    pass


class Validation(Stage, ValidationContextManager):
    pass


class Parsing(Stage, ParsingContextManager):
    pass


class Executing(Stage, ExecutingContextManager):
    pass


class PlannedExtensionsRunner(SchemaExtensionsRunner):
    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension] | None = None
    ) -> None:
        super().__init__(execution_context, extensions)
        self.kinds = tuple(map(type, self.extensions))
        self.plans = stage_plans(self.kinds)

    def operation(self) -> OperationContextManager:
        return Operation(self.extensions, self.plans["on_operation"])

    def validation(self) -> ValidationContextManager:
        return Validation(self.extensions, self.plans["on_validate"])

    def parsing(self) -> ParsingContextManager:
        return Parsing(self.extensions, self.plans["on_parse"])

    def executing(self) -> ExecutingContextManager:
        return Executing(self.extensions, self.plans["on_execute"])

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for index in with_results(self.kinds):
            data.update(await await_maybe(self.extensions[index].get_results()))
        data.update(ctx.extensions_results)
        return data
