"""The Starlette application: routes, and the lifespan that owns the pool and long-lived services."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute

from gateway.auth.dev_issuer import DevIssuer, check_dev_auth_allowed
from gateway.auth.tokens import TokenVerifier
from gateway.data_version import response_cache
from gateway.deadline import Deadline
from gateway.exports import routes as export_routes
from gateway.feed_retention import feed_retention
from gateway.fleet_checks import UPLOADS
from gateway.fleet_checks import routes as fleet_check_routes
from gateway.fleet_jobs import FleetJobs, expiring
from gateway.graphiql import assets as graphiql_assets
from gateway.graphql import GraphQLEndpoint
from gateway.health import healthz, readyz
from gateway.log_routes import routes as log_routes
from gateway.log_signer import CheckpointSigner, signing_key, verifier_key
from gateway.metrics import MetricsMiddleware, metrics_endpoint
from gateway.notifier import Notifier
from gateway.replicas import ReplicaSet
from gateway.resources import Resources
from gateway.runtime import measured_runtime
from gateway.settings import Settings
from gateway.shared_metrics import registry_for, shared_metrics
from gateway.workers import WorkerHeader
from loaders.changes import CHANGES_CHANNEL
from loaders.db import close_pool, create_pool
from loaders.release_writes import PUBLISHED_CHANNEL
from resolvers.checkpoints import VerifierKey
from resolvers.events import ReleaseEvents
from schema.limits import Budgets
from schema.schema import SchemaLimits, build_schema

log = logging.getLogger("fir.app")


def token_issuer(settings: Settings) -> tuple[str | None, DevIssuer | None]:
    """The issuer whose tokens we accept: FIR_OIDC_ISSUER, else the development issuer, else none.

    FIR_DEV_AUTH with FIR_OIDC_ISSUER is refused (check_dev_auth_allowed), never settled by precedence.
    """
    if settings.dev_auth:
        check_dev_auth_allowed(settings)
        return settings.dev_issuer, DevIssuer(settings)
    return settings.oidc_issuer, None


async def _start_verifier(
    settings: Settings, issuer: str | None, dev_issuer: DevIssuer | None, stack: contextlib.AsyncExitStack
) -> TokenVerifier | None:
    if dev_issuer is not None:
        log.warning(
            "DEVELOPMENT TOKENS ON: this gateway trusts tokens from its own issuer %s (`fir token`)."
            " Never use FIR_DEV_AUTH outside a developer machine.",
            issuer,
        )
    if issuer is None:
        log.warning("no token issuer configured: every caller is anonymous (public CPL only)")
        return None
    # our own development issuer's keys are read in this process (it is not listening yet)
    verifier = TokenVerifier(settings, issuer, local=dev_issuer)
    await verifier.start()
    stack.push_async_callback(verifier.aclose)
    return verifier


async def _start_notifier(
    settings: Settings, database_url: str, resources: Resources, stack: contextlib.AsyncExitStack
) -> None:
    """One LISTEN connection per process feeds the response cache and the release events.

    Every replica hears every write and every publish, whichever replica (or CLI) made it.
    """
    notifier = Notifier(database_url)
    resources.cache, resources.listener = response_cache(settings, notifier)
    resources.events = events = ReleaseEvents()
    notifier.listen(PUBLISHED_CHANNEL, events.deliver)
    notifier.listen(CHANGES_CHANNEL, events.wake_change_readers)
    notifier.on_sync(events.sync_change_readers)
    resources.trusted_documents.listen(notifier)
    resources.notifier = notifier
    await notifier.start()
    stack.callback(events.stop)
    stack.push_async_callback(notifier.aclose)


async def _open_replicas(
    settings: Settings, pool: asyncpg.Pool, stack: contextlib.AsyncExitStack
) -> ReplicaSet | None:
    """Queries read from the replicas; the pool above (the primary) keeps writes, LISTEN and the signer."""
    if not settings.read_urls:
        return None
    replicas = await ReplicaSet.open(pool, settings)
    stack.push_async_callback(replicas.aclose)
    return replicas


def _start_signer(settings: Settings, pool: asyncpg.Pool, stack: contextlib.AsyncExitStack) -> VerifierKey:
    """Checkpoints are signed in the background until shutdown; replicas take turns through an advisory lock."""
    key = signing_key(settings)
    signer = CheckpointSigner(settings, pool, key)
    signer.start()
    stack.push_async_callback(signer.stop)
    return verifier_key(settings, key)


def schema_limits(settings: Settings) -> SchemaLimits:
    budgets = Budgets(
        anonymous=settings.budget_anonymous,
        reader=settings.budget_reader,
        publisher=settings.budget_publisher,
        admin=settings.budget_admin,
    )
    return SchemaLimits(
        settings.max_depth,
        settings.max_aliases,
        settings.max_tokens,
        budgets,
        settings.max_string_length,
        introspection=settings.introspection,
        compiled_executor=settings.compiled_executor,
        operation_lane=settings.operation_lane,
    )


def create_app(settings: Settings, database_url: str) -> Starlette:
    schema = build_schema(schema_limits(settings))
    graphql = GraphQLEndpoint(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        ws_max_connections=settings.ws_max_connections,
        ws_max_subscriptions=settings.ws_max_subscriptions,
        connection_init_wait_timeout=dt.timedelta(seconds=settings.ws_init_timeout),
        fast_lane=settings.fast_lane,
    )
    issuer, dev_issuer = token_issuer(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Resources]]:
        async with contextlib.AsyncExitStack() as stack:
            pool = await create_pool(database_url, min_size=settings.pool_min, max_size=settings.pool_max)
            stack.push_async_callback(close_pool, pool)
            resources = Resources(settings=settings, pool=pool, dev_issuer=dev_issuer)
            resources.replicas = await _open_replicas(settings, pool, stack)
            resources.verifier = await _start_verifier(settings, issuer, dev_issuer, stack)
            await _start_notifier(settings, database_url, resources, stack)
            resources.fleet_jobs = FleetJobs(resources)
            stack.push_async_callback(resources.fleet_jobs.aclose)
            await stack.enter_async_context(measured_runtime(settings.gc_tuning, settings.gc_young_threshold))
            await stack.enter_async_context(shared_metrics(settings.metrics_dir))
            resources.log_verifier_key = _start_signer(settings, pool, stack)
            await stack.enter_async_context(feed_retention(settings, pool))
            await stack.enter_async_context(expiring(pool))
            yield {"resources": resources}

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint(registry_for(settings.metrics_dir))),
        *export_routes(),
        *fleet_check_routes(),
        *log_routes(),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    if dev_issuer is not None:
        routes += dev_issuer.routes()
    if settings.baseline_endpoint:
        from gateway.baseline import baseline_device  # benchmark-only: not even imported otherwise

        routes.append(Route("/baseline/device", baseline_device, methods=["POST"]))
    deadline = Middleware(
        Deadline,
        request_timeout=settings.request_timeout,
        body_timeout=settings.body_timeout,
        uploads=UPLOADS,
    )
    middleware = [Middleware(MetricsMiddleware), deadline]
    if settings.workers > 1:
        middleware.insert(0, Middleware(WorkerHeader))
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
