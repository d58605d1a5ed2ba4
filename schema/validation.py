"""Document validation off the event loop, memoised: a document costly to validate occupies a thread, never the loop."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from functools import partial

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from schema.offload import off_loop

_MAXSIZE = 1024
# Validation results by (document text, validation rules): clients repeat the same few documents.
_results: OrderedDict[tuple[str, tuple[type, ...]], list[GraphQLError]] = OrderedDict()


class OffLoopValidation(SchemaExtension):
    """Replaces strawberry's ValidationCache: same memo, but a miss validates on a thread.

    graphql-core's validation is pure Python and some rules are far from linear in the document
    (overlapping fields, nested fragments), so one small document could hold the loop for seconds.
    An earlier extension that already refused the operation (pre_execution_errors set) skips it.
    """

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            rules = tuple(context.validation_rules)
            errors = validated(context.query, rules)
            if errors is None:
                run = partial(validate_document, context.schema._schema, context.graphql_document, rules)
                errors = await off_loop(run)
                _remember((context.query, rules) if context.query else None, errors)
            context.pre_execution_errors = errors
        yield


def validated(query: str | None, rules: tuple[type, ...]) -> list[GraphQLError] | None:
    """The errors this text's document had under these rules ([] when valid), if they are remembered
    (then they are the most recently used)."""
    if not query:
        return None
    key = (query, rules)
    errors = _results.get(key)
    if errors is not None:
        _results.move_to_end(key)
    return errors


def _remember(key: tuple[str, tuple[type, ...]] | None, errors: list[GraphQLError]) -> None:
    if key is not None:
        _results[key] = errors
        while len(_results) > _MAXSIZE:
            _results.popitem(last=False)
