"""Error shaping, in one place: stable codes for domain errors, everything else masked and logged once."""

from __future__ import annotations

import logging

from graphql import GraphQLError, GraphQLSyntaxError

from resolvers.errors import DomainError

log = logging.getLogger("fir.errors")
MASKED = "Internal server error"


def shape(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return GraphQLError(original.message, error.nodes, path=error.path, extensions=original.extensions)
    if original is None:
        return _without_original(error)
    if isinstance(original, GraphQLError):
        return shape(original)
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
    elif error.path is None and error.message.startswith("Variable"):
        code = "BAD_USER_INPUT"
    elif error.path is None:
        code = "GRAPHQL_VALIDATION_FAILED"
    else:
        code = "BAD_USER_INPUT"
    return GraphQLError(error.message, error.nodes, path=error.path, extensions={"code": code})


def shape_result(
    errors: list[GraphQLError] | None, extra: list[GraphQLError] | None
) -> list[GraphQLError] | None:
    """The errors a client sees: shaped, plus those recorded by guards that answered an empty list."""
    shaped = [shape(e) for e in errors or ()] + list(extra or ())
    return shaped or None
