"""Document parsing memoised, and off the event loop for a long document: parsing holds the loop in pure Python."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from functools import partial

from graphql import DocumentNode, parse
from strawberry.extensions import SchemaExtension

from schema.offload import off_loop

MAXSIZE = 1024
# Characters from which a document is parsed on a thread. graphql-core parses about 4 µs a character
# here, so a shorter document holds the loop for under 10 ms; the 18 KB aliased-introspection attack
# held it for 65-90 ms (and its cost analysis for 40 more, schema.limits), enough to push /healthz
# past 250 ms on a busy machine.
OFF_LOOP_CHARS = 2048

_documents: OrderedDict[tuple[str, int | None], DocumentNode] = OrderedDict()


def is_long(query: str | None) -> bool:
    return query is not None and len(query) > OFF_LOOP_CHARS


class OffLoopParser(SchemaExtension):
    """Replaces strawberry's ParserCache: the same bounded LRU by text (one document object per text,
    which the compiled executor's plans are keyed by), but a long document is parsed on a thread.

    A syntax error, or more tokens than MaxTokensLimiter allows, raises GraphQLError from here as from
    ParserCache; FirSchema shapes it. Failures are not remembered.
    """

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        if query and context.graphql_document is None:
            max_tokens = context.parse_options.get("max_tokens")
            document = parsed(query, max_tokens)
            if document is None:
                run = partial(parse, query, **context.parse_options)
                document = await off_loop(run) if is_long(query) else run()
                _documents[query, max_tokens] = document
                while len(_documents) > MAXSIZE:
                    _documents.popitem(last=False)
            context.graphql_document = document
        yield


def parsed(query: str, max_tokens: int | None) -> DocumentNode | None:
    """The document this text was parsed into under this token limit, if it is remembered (then it is
    the most recently used)."""
    key = (query, max_tokens)
    document = _documents.get(key)
    if document is not None:
        _documents.move_to_end(key)
    return document
