"""The execution context: results built in slices (schema.slices), fleet variables coerced in columns (schema.fleet_input), queries compiled (schema.compiled)."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.execution.executor import Executor

from resolvers.context import Context
from schema.compiled.executor import CompiledExecutor
from schema.fleet_input import fleet_variables
from schema.slices import SlicedExecutor


class FirExecutor(SlicedExecutor):
    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> list[GraphQLError] | Executor[Any]:
        """A fleet variable of plain devices skips graphql-core's per-object coercion (a value tree
        for each of up to a million objects, checked field by field): graphql-core coerces an empty
        list in its place, and the columns, checked just as strictly, take its place afterwards.

        The raw list is emptied then when the request owns it (parsed from its own body): its million
        dicts are most of what the request holds, and nothing reads them again (limits, cost and the
        cache key were computed before execution)."""
        raw = raw_variable_values or {}
        fast = fleet_variables(document, operation_name, raw)
        stand_ins = {name: [] if name in fast else value for name, value in raw.items()}
        built = super().build(
            schema, document, root_value, context_value, stand_ins, operation_name, *args, **kwargs
        )
        if isinstance(built, SlicedExecutor):
            built.variable_values.coerced.update(fast)
            if isinstance(context_value, Context) and context_value.owns_input:
                for name in fast:
                    raw[name].clear()
        return built


class CompiledFirExecutor(CompiledExecutor, FirExecutor):
    """Both at once: fleet variables in columns (FirExecutor.build), queries run from compiled plans."""
