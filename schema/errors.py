"""Error shaping, in one place: stable codes for domain errors, everything else masked and logged once."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from loaders.db import database_unavailable
from resolvers.errors import DomainError, ServiceUnavailable

log = logging.getLogger("fir.errors")
MASKED = "Internal server error"
UNAVAILABLE = ServiceUnavailable("the database is unavailable; retry shortly")
# graphql-core quotes input in its messages (names, values): a huge input is never echoed in full.
MAX_MESSAGE = 500


def shortened(error: GraphQLError) -> GraphQLError:
    if len(error.message) <= MAX_MESSAGE:
        return error
    message = f"{error.message[:MAX_MESSAGE]}… (message cut at {MAX_MESSAGE} characters)"
    return GraphQLError(message, error.nodes, path=error.path, extensions=error.extensions)


def shape(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return GraphQLError(original.message, error.nodes, path=error.path, extensions=original.extensions)
    if original is None:
        return _without_original(error)
    if isinstance(original, GraphQLError):
        return shape(original)
    if database_unavailable(original):
        log.warning("database unavailable at %s: %s", error.path, original)
        return GraphQLError(
            UNAVAILABLE.message, error.nodes, path=error.path, extensions=UNAVAILABLE.extensions
        )
    log.error("unexpected error at %s", error.path, exc_info=original)
    return GraphQLError(MASKED, error.nodes, path=error.path, extensions={"code": "INTERNAL"})


def _without_original(error: GraphQLError) -> GraphQLError:
    """Errors graphql-core raised itself: syntax, validation, variable coercion, or ours with a code."""
    if error.extensions and "code" in error.extensions:
        return error
    if isinstance(error, GraphQLSyntaxError) and "tokens" in error.message:
        code = "QUERY_TOO_COMPLEX"
    elif isinstance(error, GraphQLSyntaxError):
        code = "GRAPHQL_PARSE_FAILED"
    else:
        # validation errors were tagged by TagValidationErrors; what is left is input coercion
        # (variables, arguments): the caller's data, not the document, is wrong
        code = "BAD_USER_INPUT"
    return GraphQLError(error.message, error.nodes, path=error.path, extensions={"code": code})


class TagValidationErrors(SchemaExtension):
    """Marks document validation errors, so later shaping can tell them from bad variable values."""

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if not (error.extensions and "code" in error.extensions):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}


def shape_result(
    errors: list[GraphQLError] | None, extra: list[GraphQLError] | None
) -> list[GraphQLError] | None:
    """The errors a client sees: shaped, plus those recorded by guards that answered an empty list."""
    shaped = [shortened(shape(e)) for e in errors or ()] + list(extra or ())
    return shaped or None
