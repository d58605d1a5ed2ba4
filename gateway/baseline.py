"""`POST /baseline/device`: the benchmark's hand-written yardstick, the lineage query without GraphQL.

It answers what the GraphQL query
`device(identity) { onCpl isLatest cplEntry { number status } latest { version releaseDate }
upgradePath { version } lineage { version releaseDate status } }` answers a fir:read caller, in the same
JSON shape, with one SQL statement and the same rules (resolvers.devices). Mounted only when
FIR_BASELINE_ENDPOINT is set: it exists to measure what GraphQL costs, not to be an API.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.authn import authenticate, resources_of, unauthenticated_response
from loaders import baseline as sql
from loaders.rows import ReleaseRow
from loaders.vocabulary import CplStatus
from resolvers.devices import analyse, view_of
from resolvers.errors import BadUserInput, DomainError, Forbidden, Unauthenticated
from resolvers.identity import Identity, parse_identity

Json = dict[str, Any]


async def baseline_device(request: Request) -> Response:
    try:
        principal = await authenticate(resources_of(request), request.headers.get("authorization"))
    except Unauthenticated as error:
        return unauthenticated_response(error)
    try:
        if not principal.can_read:
            raise Forbidden("the baseline answers what a fir:read caller sees")
        identity = _identity(orjson.loads(await request.body()))
    except (DomainError, orjson.JSONDecodeError, TypeError) as error:
        return _error(error)
    found = await sql.device(resources_of(request).pool, identity)
    return _json({"data": {"device": _device(Identity(*identity), found)}})


def _identity(body: Any) -> tuple[str, str, str, str]:
    if not isinstance(body, dict):
        raise BadUserInput("the body is a JSON object with the four identity fields")
    fields = ("manufacturerId", "modelId", "hardwareVersion", "firmwareVersion")
    for name in fields:  # String!, as the GraphQL input is: 4331 or null is not a code
        if not isinstance(body.get(name), str):
            raise BadUserInput(f"{name} must be a string", field=name)
    parsed = parse_identity(*(body[f] for f in fields))
    return (parsed.manufacturer_id, parsed.model_id, parsed.hardware_version, parsed.firmware_version)


def _device(identity: Identity, found: sql.BaselineDevice) -> Json:
    # The GraphQL resolvers' own computation; a fir:read caller's visible releases are the published
    # ones, which is all the baseline's statement returns.
    # its statement reads published releases only: whether the device's own firmware was withdrawn
    # (then it is not "ahead" of the latest) comes beside them
    a = analyse(
        identity,
        view_of(found.releases),
        found.cpl_number,
        found.cpl_status == CplStatus.CURRENT,
        withdrawn=found.withdrawn,
    )
    entry = None if found.cpl_number is None else {"number": found.cpl_number, "status": found.cpl_status}
    return {
        "onCpl": found.cpl_status == CplStatus.CURRENT,
        "isLatest": a.is_latest,
        "cplEntry": entry,
        "latest": None if a.latest is None else _dated(a.latest),
        "upgradePath": None
        if a.upgrade_path is None
        else [{"version": r.firmware_version} for r in a.upgrade_path],
        "lineage": [{**_dated(r), "status": r.status} for r in a.lineage],
    }


def _dated(r: ReleaseRow) -> Json:
    return {"version": r.firmware_version, "releaseDate": r.release_date}


def _error(error: Exception) -> Response:
    extensions = error.extensions if isinstance(error, DomainError) else {"code": "BAD_REQUEST"}
    status = 403 if isinstance(error, Forbidden) else 400
    message = error.message if isinstance(error, DomainError) else "the body is not valid JSON"
    return _json({"data": None, "errors": [{"message": message, "extensions": extensions}]}, status)


def _json(body: Json, status: int = 200) -> Response:
    # orjson writes dates as ISO 8601, as the GraphQL Date scalar does.
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
