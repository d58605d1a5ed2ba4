"""Who may introspect the schema (FIR_INTROSPECTION): all, authenticated callers, or nobody."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension


class Introspection(StrEnum):
    ALL = "all"
    AUTHENTICATED = "authenticated"
    OFF = "off"


class IntrospectionPolicy(SchemaExtension):
    """Refuses `__schema` and `__type` (not `__typename`) to callers the policy leaves out.

    The answer is FORBIDDEN before execution. `_service { sdl }`, which federation routers use, is a
    field of the schema, not introspection, and stays under its own rules.
    """

    def __init__(self, *, mode: Introspection) -> None:
        super().__init__()
        self.mode = mode

    def on_validate(self) -> Iterator[None]:
        """Runs after ValidationCache has validated (it comes later in the extension list)."""
        self._check()
        yield

    def _check(self) -> None:
        context = self.execution_context
        if context.pre_execution_errors:
            return  # a document that does not validate keeps its own errors
        principal = getattr(context.context, "principal", None)
        refused = refusal(
            self.mode, principal, context.query, context.schema._schema, context.graphql_document
        )
        if refused is not None:
            context.pre_execution_errors = [refused]


def refusal(
    mode: Introspection,
    principal: Any,
    query: str | None,
    schema: GraphQLSchema,
    document: DocumentNode | None,
) -> GraphQLError | None:
    """FORBIDDEN when a valid document introspects and the policy leaves this caller out, else None."""
    if mode is Introspection.ALL:
        return None
    if mode is Introspection.AUTHENTICATED and principal is not None and not principal.anonymous:
        return None
    text = query or ""
    if "__schema" not in text and "__type" not in text.replace("__typename", ""):
        return None
    assert document is not None
    if not validate(schema, document, [NoSchemaIntrospectionCustomRule]):
        return None
    message = (
        "introspection needs a token (FIR_INTROSPECTION=authenticated)"
        if mode is Introspection.AUTHENTICATED
        else "introspection is off on this gateway (FIR_INTROSPECTION=off)"
    )
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})
