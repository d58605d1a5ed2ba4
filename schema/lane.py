"""The known operation's lane: a document the schema has already parsed, validated and analysed runs
without strawberry's per-request pipeline, by the same rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import ASTValidationRule, DocumentNode, MiddlewareManager, specified_rules
from strawberry.execution import optimized_is_awaitable
from strawberry.schema._graphql_core import (
    GraphQLIncrementalExecutionResults,
    execution_context_class_kwargs,
)
from strawberry.schema.schema import _coerce_error
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from resolvers.principal import ANONYMOUS
from schema import introspection
from schema.input_limits import Screen, check
from schema.limits import SchemaLimits
from schema.parsing import parsed
from schema.prepared import prepared
from schema.read_routing import route
from schema.validation import validated

if TYPE_CHECKING:
    from collections.abc import Iterable

    from schema.schema import FirSchema

# A manager of no middleware: it hands each resolver back unwrapped, so requests may share it.
NO_MIDDLEWARE = MiddlewareManager()
# What strawberry validates a document against before AddValidationRules adds its rules.
STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)


@dataclass(frozen=True, slots=True)
class Known:
    """What the lane runs: the remembered document, the operation's name as strawberry passes it on
    (the caller's, else the document's only operation's) and its type."""

    document: DocumentNode
    operation_name: str | None
    kind: OperationType


@dataclass(frozen=True, slots=True)
class Lane:
    """strawberry runs every request through an execution context, its ten extensions (objects made
    per request) and four stages of their hooks; for a document they have all seen before, each hook
    only looks something up and lets it through. The lane asks the same questions of the same
    functions, in one pass: the remembered parse (schema.parsing), the operation and its type
    (schema.prepared), the remembered validation (schema.validation), the remembered cost analysis
    against the caller's budget (schema.limits), the introspection policy, the input caps
    (schema.input_limits) and the read routing. Whatever would not simply pass (a first sight, an
    error, a refusal, an operation type the transport does not allow) is left to strawberry's
    pipeline, which answers it as before; so is any schema not built by schema.build_schema with
    exactly the extensions this lane stands for."""

    limits: SchemaLimits
    # strawberry's rules and the one AddValidationRules adds (schema.input_limits), as the
    # validation cache keys them: made once, with the schema
    rules: tuple[type[ASTValidationRule], ...]
    screen: Screen  # InputLimits' screen

    def known(
        self,
        schema: FirSchema,
        query: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
        allowed: Iterable[OperationType],
    ) -> Known | None:
        """The operation when every check passes as it would in strawberry's pipeline, else None."""
        if type(query) is not str or not query or schema.wrapping is not False or not schema.factories_only:
            return None
        document = parsed(query, self.limits.max_tokens)
        if document is None:
            return None
        ready = prepared(schema._schema, document, operation_name)
        if ready is None:  # no such operation, or several and no name: strawberry words the error
            return None
        operation = ready.operation
        kind = OperationType(operation.operation.value)
        if kind not in allowed:
            return None
        if validated(query, self.rules) != []:
            return None
        analysis = schema.analyses.cached(query, variables)
        principal = getattr(context, "principal", ANONYMOUS)  # as QueryLimits reads it
        if analysis is None or self.limits.refusal(analysis, principal) is not None:
            return None
        who = getattr(context, "principal", None)  # as IntrospectionPolicy reads it
        if introspection.refusal(self.limits.introspection, who, query, schema._schema, document):
            return None
        if operation_name is None and operation.name is not None:
            operation_name = operation.name.value
        try:
            check(self.screen, context, document, operation_name, variables)
        except Exception:  # BAD_USER_INPUT: strawberry's pipeline raises it again and answers it
            return None
        return Known(document, operation_name, kind)

    async def run(
        self,
        schema: FirSchema,
        known: Known,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        """strawberry's execution stage and result handling, for a schema whose extensions add no
        results and wrap no resolver, and whose `process_errors` logs nothing (FirSchema's)."""
        route(known.kind, context)
        try:
            result = await await_maybe(
                schema._get_execute_function()(
                    schema._schema,
                    known.document,
                    root_value=root_value,
                    middleware=NO_MIDDLEWARE,
                    variable_values=variables,
                    operation_name=known.operation_name,
                    context_value=context,
                    is_awaitable=optimized_is_awaitable,
                    **execution_context_class_kwargs(schema.execution_context_class),
                    operation_extensions=operation_extensions,
                )
            )
        except Exception as error:  # as strawberry's operation stage answers it
            return PreExecutionError(data=None, errors=[_coerce_error(error)], extensions={})
        if isinstance(result, GraphQLIncrementalExecutionResults):
            return result  # type: ignore[return-value] # as strawberry hands incremental delivery on
        found = result if isinstance(result, ExecutionResult) else ExecutionResult(result.data, result.errors)
        found.extensions = {}  # no extension of this schema adds results
        return found
