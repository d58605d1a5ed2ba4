"""`POST /fleet-checks` (a meter file streamed in, a job id back), `GET /fleet-checks/{id}` and its `/report`."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.authn import resources_of, route_caller
from gateway.fleet_jobs import STALE_AFTER_SECONDS, FleetJobs
from gateway.settings import Settings
from loaders import fleet_checks as sql
from loaders.db import Db
from resolvers.principal import Principal
from schema.access import ROUTES
from spreadsheets.fleet_files import FORMATS

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FINISHED = ("done", "failed")
STALE = "the gateway running this check stopped; submit the file again"
# the streamed uploads: gateway.deadline leaves their timing to _spool
UPLOADS = frozenset({("POST", "/fleet-checks")})


class UploadTooSlow(Exception):
    """The upload stalled, or fell below the minimum rate: the 408's message."""


def routes() -> list[Route]:
    return [
        Route("/fleet-checks", submit, methods=["POST"]),
        Route("/fleet-checks/{check_id}", status, methods=["GET"]),
        Route("/fleet-checks/{check_id}/report", report, methods=["GET"]),
    ]


def _error(
    status_code: int, code: str, message: str, headers: dict[str, str] | None = None, **extensions: object
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return Response(orjson.dumps(body), status_code, media_type="application/json", headers=headers)


async def _reader(request: Request) -> Principal | Response:
    """A fir:read caller, or the 401/403 response to send instead."""
    return await route_caller(request, ROUTES["/fleet-checks"], "a fleet check")


def _kind(request: Request, name: str, default: str) -> str | Response:
    kind = request.query_params.get(name, default).lower()
    if kind not in FORMATS:
        return _error(400, "BAD_USER_INPUT", f"{name} must be one of {', '.join(FORMATS)}")
    return kind


async def submit(request: Request) -> Response:
    principal = await _reader(request)
    if isinstance(principal, Response):
        return principal
    input_kind, report_kind = _kind(request, "format", "csv"), _kind(request, "report", "xlsx")
    if isinstance(input_kind, Response):
        return input_kind
    if isinstance(report_kind, Response):
        return report_kind
    resources = resources_of(request)
    jobs: FleetJobs = resources.fleet_jobs
    limit = resources.settings.fleet_check_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    work = jobs.work_dir()
    source = work / f"meters.{input_kind}"
    try:
        if not await _spool(request, source, limit, resources.settings):
            shutil.rmtree(work, ignore_errors=True)
            return _too_large(limit)
        db = Db(resources.pool)
        await sql.delete_expired(db)
        check_id = await sql.create_check(
            db, principal.actor, input_kind, report_kind, resources.settings.fleet_check_ttl
        )
    except UploadTooSlow as slow:
        shutil.rmtree(work, ignore_errors=True)
        return _error(408, "REQUEST_TIMEOUT", str(slow), headers={"connection": "close"})
    except BaseException:  # the client went away mid-upload, the database failed, the server stops
        shutil.rmtree(work, ignore_errors=True)
        raise
    jobs.start(check_id, principal, source, report_kind)  # the job removes the work directory
    body = {"id": str(check_id), "stage": "queued", "status": f"/fleet-checks/{check_id}"}
    return Response(
        orjson.dumps(body), 202, media_type="application/json", headers={"location": body["status"]}
    )


def _too_large(limit: int) -> Response:
    # as /graphql's body cap answers (BAD_USER_INPUT at "body"), with this endpoint's own, larger bound
    message = f"a fleet file may be at most {limit} bytes (FIR_FLEET_CHECK_MAX_BYTES)"
    return _error(413, "BAD_USER_INPUT", message, field="body", limit=limit)


async def _spool(request: Request, target: Path, limit: int, settings: Settings) -> bool:
    """The body to disk as it arrives, never whole in memory; False once it passes `limit`.

    No deadline for the whole body (a 4 GiB file takes minutes on a good link), but no slow drip
    either: each chunk within FIR_BODY_TIMEOUT of the last, and past that long an average of at
    least FIR_UPLOAD_MIN_RATE bytes a second, else UploadTooSlow.
    """
    stall, rate = settings.body_timeout, settings.upload_min_rate
    loop = asyncio.get_running_loop()
    started = loop.time()
    chunks = request.stream().__aiter__()
    size = 0
    with target.open("wb") as handle:
        while True:
            try:
                async with asyncio.timeout(stall):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return True
            except TimeoutError:
                raise UploadTooSlow(f"the upload stalled: nothing arrived for {stall:g} s") from None
            size += len(chunk)
            if size > limit:
                return False
            handle.write(chunk)
            elapsed = loop.time() - started
            if elapsed > stall and size < rate * elapsed:
                raise UploadTooSlow(
                    f"the upload is too slow: {size / elapsed:,.0f} bytes a second,"
                    f" at least {rate:,} expected (FIR_UPLOAD_MIN_RATE)"
                )


async def _visible(request: Request) -> tuple[Principal, sql.FleetCheckRow] | Response:
    """The check, for the principal that created it and for SECAS; 404 for anyone else (no hint it exists)."""
    principal = await _reader(request)
    if isinstance(principal, Response):
        return principal
    try:
        check_id = uuid.UUID(request.path_params["check_id"])
    except ValueError:
        return _not_found()
    db = Db(resources_of(request).pool)
    found = await sql.get_check(db, check_id)
    if found is None or not (principal.is_admin or found.owner == principal.actor):
        return _not_found()
    return principal, await settled(db, found)


async def settled(db: Db, check: sql.FleetCheckRow) -> sql.FleetCheckRow:
    """A check that has not moved for STALE_AFTER_SECONDS (its replica stopped: a live job beats
    every minute) is failed, and stored so before anyone is told: the verdict is final, whatever
    that replica does after (the CLI stops at failed)."""
    idle = (dt.datetime.now(dt.UTC) - check.updated_at).total_seconds()
    if check.stage in FINISHED or idle <= STALE_AFTER_SECONDS:
        return check
    await sql.fail_stale(db, check.id, STALE_AFTER_SECONDS, STALE)
    return await sql.get_check(db, check.id) or check


def _not_found() -> Response:
    return _error(404, "NOT_FOUND", "no such fleet check (or it has expired)")


async def status(request: Request) -> Response:
    visible = await _visible(request)
    if isinstance(visible, Response):
        return visible
    _, check = visible
    return Response(orjson.dumps(describe(check)), media_type="application/json")


def describe(check: sql.FleetCheckRow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(check.id),
        "stage": check.stage,
        "rows": check.rows,
        "format": check.input_kind,
        "reportFormat": check.report_kind,
        "createdAt": check.created_at.isoformat(),
        "expiresAt": check.expires_at.isoformat(),
        "error": check.error,
        "summary": check.summary,
        "problems": check.problems,
        "manufacturers": (check.tables or {}).get("manufacturers"),
        "campaign": (check.tables or {}).get("campaign"),
    }
    if check.stage == "done":
        body["report"] = f"/fleet-checks/{check.id}/report"
        body["reportBytes"] = check.report_bytes
    return body


async def report(request: Request) -> Response:
    visible = await _visible(request)
    if isinstance(visible, Response):
        return visible
    _, check = visible
    if check.stage != "done":
        return _error(409, "CONFLICT", f"the fleet check is {check.stage}, not done")
    chunks = sql.report_chunks(Db(resources_of(request).pool), check.id)
    headers = {
        "content-disposition": f'attachment; filename="fleet-check-{check.id}.{check.report_kind}"',
        "cache-control": "private, no-store",
        "content-length": str(check.report_bytes),
    }
    return StreamingResponse(_bytes(chunks), media_type=MEDIA_TYPES[check.report_kind], headers=headers)


async def _bytes(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
