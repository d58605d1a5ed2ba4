"""A document with several operations runs only the one named by operationName (never the first)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


class OperationNameRequired(SchemaExtension):
    """strawberry would otherwise pick the document's first operation when operationName is missing."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        provided = execution._provided_operation_name  # the caller's, not strawberry's default
        if document is not None and provided is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                raise GraphQLError(
                    "the document holds several operations: name the one to run in operationName",
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED", "field": "operationName"},
                )
        yield
