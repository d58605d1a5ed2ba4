"""The Starlette application: routes, and the lifespan that owns the pool and long-lived services."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route, WebSocketRoute

from gateway.graphql import GraphQLEndpoint
from gateway.health import healthz, readyz
from gateway.resources import Resources
from gateway.settings import Settings
from loaders.db import create_pool
from schema.schema import SchemaLimits, build_schema

log = logging.getLogger("fir.app")


def create_app(settings: Settings, database_url: str) -> Starlette:
    schema = build_schema(SchemaLimits(settings.max_depth, settings.max_aliases, settings.max_tokens))
    graphql = GraphQLEndpoint(schema, graphql_ide="graphiql")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Resources]]:
        pool = await create_pool(database_url, min_size=settings.pool_min, max_size=settings.pool_max)
        resources = Resources(settings=settings, pool=pool)
        try:
            yield {"resources": resources}
        finally:
            await pool.close()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
