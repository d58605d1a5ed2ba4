"""Who may introspect the schema (FIR_INTROSPECTION): all, authenticated callers, or nobody."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from graphql import GraphQLError, validate
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
        if self.mode is Introspection.ALL or context.pre_execution_errors:
            return  # a document that does not validate keeps its own errors
        principal = getattr(context.context, "principal", None)
        if self.mode is Introspection.AUTHENTICATED and principal is not None and not principal.anonymous:
            return
        query = context.query or ""
        if "__schema" not in query and "__type" not in query.replace("__typename", ""):
            return
        assert context.graphql_document is not None
        if validate(context.schema._schema, context.graphql_document, [NoSchemaIntrospectionCustomRule]):
            message = (
                "introspection needs a token (FIR_INTROSPECTION=authenticated)"
                if self.mode is Introspection.AUTHENTICATED
                else "introspection is off on this gateway (FIR_INTROSPECTION=off)"
            )
            context.pre_execution_errors = [GraphQLError(message, extensions={"code": "FORBIDDEN"})]
