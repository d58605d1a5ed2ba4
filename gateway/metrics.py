"""Prometheus metrics: request counts and latency per route, served at /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "fir_http_requests_total", "HTTP requests", ["route", "method", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "fir_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
    registry=REGISTRY,
)
FAST_LANE = Counter(
    "fir_fast_lane_requests_total",
    "GraphQL requests answered by the fast lane (one JSON operation over POST), not strawberry's view",
    registry=REGISTRY,
)
KNOWN_ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
# labels() takes a lock and builds a key on every call: each labelled child is looked up once instead
_LATENCY_OF = {route: LATENCY.labels(route) for route in (*KNOWN_ROUTES, "other")}
_REQUESTS_OF: dict[tuple[str, str, int], Counter] = {}


def requests_of(route: str, method: str, status: int) -> Counter:
    """The counter child for one (route, method, status); methods outside HTTP's own share "other"."""
    key = (route, method if method in HTTP_METHODS else "other", status)
    found = _REQUESTS_OF.get(key)
    if found is None:
        found = _REQUESTS_OF[key] = REQUESTS.labels(key[0], key[1], str(status))
    return found


HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


class MetricsMiddleware:
    """Plain ASGI middleware: no per-request objects beyond a closure, routes bounded to known paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in KNOWN_ROUTES else "other"
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _LATENCY_OF[route].observe(time.perf_counter() - start)
            requests_of(route, scope["method"], status).inc()


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Awaitable[Response]]:
    """/metrics: this process's REGISTRY, or with several workers the registry summing all of them."""

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
