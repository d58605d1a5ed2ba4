"""graphql-core's executor without its one reference cycle, so a finished request is freed at once, not by the collector."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from graphql import GraphQLResolveInfoHelpers
from graphql.execution import Executor


class AsyncWork:
    """What graphql-core's two async-work helpers read of their executor, and nothing else.

    graphql-core hands resolvers `GraphQLResolveInfoHelpers` made of the executor's own bound methods
    and keeps them on the executor: a cycle through which everything a request built (its context,
    DataLoaders, rows, futures) outlives the request until the next young collection, about 140
    objects per lineage request. The helpers read only `is_awaitable` and the shared
    `background_futures` set, so they are bound to this object instead; graphql-core's own code runs.
    """

    settle_in_background = Executor.settle_in_background  # called by track_async_work

    def __init__(self, executor: Executor[Any]) -> None:
        self.is_awaitable = executor.is_awaitable
        self.background_futures = executor.background_futures  # shared with the executor's copies


def helpers_of(executor: Executor[Any]) -> GraphQLResolveInfoHelpers:
    work = cast("Executor[Any]", AsyncWork(executor))  # duck-typed: the attributes those methods read
    return GraphQLResolveInfoHelpers(
        gather=partial(Executor.gather_async_work, work), track=partial(Executor.track_async_work, work)
    )
