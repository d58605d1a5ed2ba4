"""strawberry's extension runner, with each hook's wrapping decided once per extension class, not per request."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

# What a hook becomes: a context-manager factory taking the extension, and whether it is async.
Plan = tuple[Callable[[SchemaExtension], Any], bool]
NOT_PLANNED = "strawberry's own wrapping"


_plans: dict[tuple[type[SchemaExtension], str], Plan | str | None] = {}


def plan(kind: type[SchemaExtension], hook_name: str) -> Plan | str | None:
    """strawberry inspects and decorates every hook of every extension on every request (four stages,
    nine extensions here); the answer depends only on the class, so it is worked out once."""
    key = (kind, hook_name)
    if key not in _plans:
        _plans[key] = planned(kind, hook_name)
    return _plans[key]


def planned(kind: type[SchemaExtension], hook_name: str) -> Plan | str | None:
    hook = getattr(kind, hook_name)
    if hook is getattr(SchemaExtension, hook_name):
        return None
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    return NOT_PLANNED  # a plain or coroutine function: rare, left to strawberry


class PlannedHooks:
    """Mixed into strawberry's context managers: `get_hook` reads the class's plan."""

    HOOK_NAME: str

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = plan(type(extension), self.HOOK_NAME)
        if found is None:
            return None
        if isinstance(found, str):
            return super().get_hook(extension)  # type: ignore[misc, no-any-return]
        factory, is_async = found
        return WrappedHook(extension=extension, hook=functools.partial(factory, extension), is_async=is_async)


class Operation(PlannedHooks, OperationContextManager):
    pass


class Validation(PlannedHooks, ValidationContextManager):
    pass


class Parsing(PlannedHooks, ParsingContextManager):
    pass


class Executing(PlannedHooks, ExecutingContextManager):
    pass


class PlannedExtensionsRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return Executing(self.extensions)
