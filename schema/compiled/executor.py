"""The execution context that runs a query from its compiled plan, and graphql-core for everything else."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

from schema.compiled.plan import Compiler, FieldPlan, Unsupported
from schema.compiled.run import learning, run_selection
from schema.slices import SlicedExecutor

# Operations kept compiled, least recently used dropped first (each holds its document alive).
PLANS = 1024
# Plans kept per operation, one per combination of its @skip/@include variables: past this many, a
# new combination runs on graphql-core (thirty switches must not make a plan per request).
PLANS_PER_OPERATION = 16


@dataclass
class Compiled:
    """One operation's plans, one per combination of the variables its @skip/@include read."""

    schema: Any
    operation: OperationDefinitionNode
    switches: tuple[str, ...]
    plans: dict[tuple[Any, ...], list[FieldPlan] | None] = field(default_factory=dict)


_compiled: OrderedDict[tuple[int, int], Compiled] = OrderedDict()


class CompiledExecutor(SlicedExecutor):
    """Queries run from a plan compiled once per document; mutations, subscriptions, introspection,
    @defer/@stream and anything else the compiler declines run on graphql-core, unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = learning(self.is_awaitable)  # type: ignore[assignment]

    def execute_operation(self, serially: bool | None = None) -> Any:
        fields = self.plan() if serially is None else None
        if fields is None:
            return super().execute_operation(serially)
        if self.abort_signal is not None and self.abort_signal.aborted:
            self.run_async_work_finished_hook()
            raise self.abort_error()
        try:
            data = run_selection(self, fields, self.root_value, None)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.finish(self.build_response(None))
        if type(data) is dict:
            return self.finish(self.build_response(data))
        awaited = self._awaited(data)
        return awaited if self.abort_signal is None else self.with_aborted_execution_error(awaited)

    async def _awaited(self, data: Any) -> Any:
        try:
            done = await data
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        except Exception:
            await self.cancel_incremental_work()
            self.run_async_work_finished_hook()
            raise
        return self.build_response(done)

    def plan(self) -> list[FieldPlan] | None:
        """The root fields' plans, or None when graphql-core should run this operation."""
        operation = self.operation
        if (
            operation.operation is not OperationType.QUERY
            or self._has_middleware()
            or not self.error_propagation
        ):
            return None
        compiled = self._compiled_operation(operation)
        coerced = self.variable_values.coerced
        key = tuple(coerced.get(name) for name in compiled.switches)
        if key not in compiled.plans:
            if len(compiled.plans) >= PLANS_PER_OPERATION:
                return None
            compiled.plans[key] = self._compile()
        return compiled.plans[key]

    def _has_middleware(self) -> bool:
        """strawberry always passes a manager; it wraps resolvers only if an extension implements resolve()."""
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def _compiled_operation(self, operation: OperationDefinitionNode) -> Compiled:
        key = (id(self.schema), id(operation))
        found = _compiled.get(key)
        if found is not None and found.operation is operation and found.schema is self.schema:
            _compiled.move_to_end(key)
            return found
        found = _compiled[key] = Compiled(self.schema, operation, tuple(sorted(set(self._switches()))))
        while len(_compiled) > PLANS:
            _compiled.popitem(last=False)
        return found

    def _switches(self) -> Iterator[str]:
        sets = [self.operation.selection_set] + [f.selection_set for f in self.fragment_definitions.values()]
        for selection_set in sets:
            yield from _switches_in(selection_set)

    def _compile(self) -> list[FieldPlan] | None:
        root_type = self.schema.query_type
        if root_type is None:
            return None
        try:
            return Compiler(self).root(root_type)
        except (Unsupported, RecursionError):
            return None
        except GraphQLError:  # graphql-core reports it, at its own stage, when it runs the operation
            return None


def _switches_in(selection_set: SelectionSetNode | None) -> Iterator[str]:
    """The variables that directives (@skip, @include) read in a selection set, nested ones included."""
    for selection in selection_set.selections if selection_set else ():
        for directive in selection.directives or ():
            for argument in directive.arguments or ():
                if isinstance(argument.value, VariableNode):
                    yield argument.value.name.value
        if isinstance(selection, FieldNode | InlineFragmentNode):
            yield from _switches_in(selection.selection_set)
