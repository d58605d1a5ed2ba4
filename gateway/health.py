"""Liveness and readiness: the process answers; the database answers."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.authn import resources_of


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """503 with Retry-After while the database does not answer; `notifier` says whether LISTEN is up,
    `replicas` (with FIR_DATABASE_READ_URLS) each read replica's state and lag."""
    resources = resources_of(request)
    notifier = resources.notifier
    listening = "listening" if notifier is not None and notifier.healthy else "reconnecting"
    try:
        async with asyncio.timeout(2):
            await resources.pool.fetchval("select 1")
    except Exception:  # any failure to reach the database means not ready
        return JSONResponse(
            {
                "status": "unavailable",
                "code": "SERVICE_UNAVAILABLE",
                "database": "unreachable",
                "notifier": listening,
            },
            status_code=503,
            headers={"Retry-After": "1"},
        )
    answer: dict[str, object] = {"status": "ok", "database": "ok", "notifier": listening}
    if resources.replicas is not None:  # a replica down is reported, never unready: the primary answers
        answer["replicas"] = resources.replicas.describe()
    return JSONResponse(answer)
