"""Request metrics: one counter child per route, method and status, methods outside HTTP's own counted as other."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.metrics import REGISTRY, MetricsMiddleware


async def teapot(request: Request) -> Response:
    return Response(status_code=418)


def count(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("fir_http_requests_total", labels) or 0.0


def latencies(route: str) -> float:
    return REGISTRY.get_sample_value("fir_http_request_seconds_count", {"route": route}) or 0.0


async def test_requests_are_counted_per_route_method_and_status() -> None:
    methods = ["GET", "POST", "PATCH"]
    app = MetricsMiddleware(Starlette(routes=[Route("/healthz", teapot, methods=methods)]))
    before = {m: count("/healthz", m, "418") for m in ("GET", "POST")}
    refused = count("/healthz", "other", "405")
    timed = latencies("/healthz")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for method in ("GET", "GET", "POST", "BREW"):
            await client.request(method, "/healthz")
    assert count("/healthz", "GET", "418") == before["GET"] + 2
    assert count("/healthz", "POST", "418") == before["POST"] + 1
    assert count("/healthz", "other", "405") == refused + 1
    assert count("/healthz", "BREW", "405") == 0
    assert latencies("/healthz") == timed + 4
