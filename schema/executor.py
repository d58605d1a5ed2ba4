"""The execution context: built from a document prepared once (schema.prepared), results built in slices
(schema.slices), fleet variables coerced in columns (schema.fleet_input), queries compiled (schema.compiled)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLFieldResolver,
    GraphQLSchema,
    GraphQLTypeResolver,
    MiddlewareManager,
    assert_valid_schema,
    default_field_resolver,
    default_type_resolver,
    get_operation_ast,
)
from graphql.execution import ExecutionHooks, Executor, Middleware
from graphql.pyutils import AbortSignal

from resolvers.context import Context
from schema.compiled.executor import CompiledExecutor
from schema.fleet_input import fleet_columns, fleet_names
from schema.prepared import Prepared, prepared
from schema.sifted import current
from schema.slices import SlicedExecutor


class FirExecutor(SlicedExecutor):
    @classmethod
    def build(  # graphql-core's own signature, parameter for parameter
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        field_resolver: GraphQLFieldResolver | None = None,
        type_resolver: GraphQLTypeResolver | None = None,
        subscribe_field_resolver: GraphQLFieldResolver | None = None,
        max_coercion_errors: int = 50,
        enable_early_execution: bool = False,
        middleware: Middleware | None = None,
        is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]] | None = None,
        is_async_iterable: Callable[[Any], TypeGuard[AsyncIterable[Any]]] | None = None,
        hide_suggestions: bool = False,
        abort_signal: AbortSignal | None = None,
        hooks: ExecutionHooks | None = None,
        **custom_args: Any,
    ) -> list[GraphQLError] | Executor[Any]:
        """graphql-core's Executor.build, with what it derives from the document alone prepared once per
        document (schema.prepared) and the variables of valid requests coerced by the operation's
        compiled coercer; graphql-core's own build runs whenever either declines, and reports the errors.

        A fleet variable of plain devices skips graphql-core's per-object coercion (a value tree
        for each of up to a million objects, checked field by field): graphql-core coerces an empty
        list in its place, and the columns, checked just as strictly, take its place afterwards.

        The raw list is emptied then when the request owns it (parsed from its own body): its million
        dicts are most of what the request holds, and nothing reads them again (limits, cost and the
        cache key were computed before execution)."""
        raw = raw_variable_values or {}
        ready = prepared(schema, document, operation_name)
        names = ready.fleet if ready else fleet_names(get_operation_ast(document, operation_name))
        sifted = current(raw_variable_values)  # long lists already in columns (schema.sifted)
        fast = fleet_columns(names, raw, sifted.columns if sifted is not None else None)
        inputs = {name: [] if name in fast else value for name, value in raw.items()} if fast else raw
        built: list[GraphQLError] | Executor[Any] | None = (
            cls._from_prepared(
                ready, schema, root_value, context_value, inputs, field_resolver, type_resolver,
                subscribe_field_resolver, enable_early_execution, middleware, is_awaitable,
                is_async_iterable, hide_suggestions=hide_suggestions, abort_signal=abort_signal,
                hooks=hooks, **custom_args,
            )
            if ready
            else None
        )  # fmt: skip
        if built is None:
            built = super().build(
                schema, document, root_value, context_value, inputs, operation_name, field_resolver,
                type_resolver, subscribe_field_resolver, max_coercion_errors, enable_early_execution,
                middleware, is_awaitable, is_async_iterable, hide_suggestions=hide_suggestions,
                abort_signal=abort_signal, hooks=hooks, **custom_args,
            )  # fmt: skip
        if isinstance(built, SlicedExecutor):
            built.variable_values.coerced.update(fast)
            if isinstance(context_value, Context) and context_value.owns_input:
                for name in fast:
                    raw[name].clear()
        return built

    @classmethod
    def _from_prepared(
        cls,
        ready: Prepared,
        schema: GraphQLSchema,
        root_value: Any,
        context_value: Any,
        inputs: dict[str, Any],
        field_resolver: GraphQLFieldResolver | None,
        type_resolver: GraphQLTypeResolver | None,
        subscribe_field_resolver: GraphQLFieldResolver | None,
        enable_early_execution: bool,
        middleware: Middleware | None,
        *predicates: Any,
        hide_suggestions: bool,
        **settings: Any,
    ) -> Executor[Any] | None:
        """What graphql-core's build makes of a prepared operation (the same constructor call), or None
        when graphql-core's build should run: the variables are not plainly valid, or the middleware
        is not already a manager (graphql-core makes one of a list, or refuses anything else)."""
        if middleware is not None and not isinstance(middleware, MiddlewareManager):
            return None
        assert_valid_schema(schema)  # graphql-core's first step (its verdict is cached on the schema)
        variable_values = ready.variables(inputs, hide_suggestions)
        if variable_values is None:
            return None
        return cls(
            schema,
            ready.fragment_definitions,
            ready.fragments,
            root_value,
            context_value,
            ready.operation,
            variable_values,
            field_resolver or default_field_resolver,
            type_resolver or default_type_resolver,
            subscribe_field_resolver or default_field_resolver,
            enable_early_execution,
            middleware,
            *predicates,
            hide_suggestions=hide_suggestions,
            **settings,
        )


class CompiledFirExecutor(CompiledExecutor, FirExecutor):
    """Both at once: fleet variables in columns (FirExecutor.build), queries run from compiled plans."""
