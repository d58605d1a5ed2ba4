"""Building the typed per-request Context: principal, fresh DataLoaders, limits."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from gateway.resources import Resources
from loaders.db import Db, WriteMarks
from loaders.registry import build_loaders
from resolvers.context import Context, InputCapsByPrincipal, Limits
from resolvers.principal import Principal


def build_context(
    resources: Resources, principal: Principal, request: Any = None, response: Any = None
) -> Context:
    """Called inside the request's running loop: aiodataloader binds the loop at construction."""
    return Context(
        principal=principal,
        loaders=build_loaders(request_db(resources, request)),
        limits=limits_of(resources),
        request=request,
        response=response,
        events=resources.events,
    )


def request_db(resources: Resources, request: Any) -> Db:
    """An HTTP request's writes leave their marks in its scope's state (`marks`): whether one committed,
    which the response cache asks before it clears, and its commit's WAL position and data version for
    the FIR-Read-After header: with read replicas, so that a replica that has not replayed it is passed
    by; with or without, so that another process (a worker, a gateway replica) whose cache has not yet
    heard of the write answers from the database. With read replicas it reads where its ReadChoice
    (gateway.replicas) sends it; WebSocket operations stay on the primary, which their notifications
    come from."""
    if not isinstance(request, Request):
        return Db(resources.pool)
    marks = WriteMarks(positions=True)
    state = request.scope.setdefault("state", {})
    state["marks"] = marks
    if resources.replicas is None:
        return Db(resources.pool, marks=marks)
    return Db(resources.pool, reads=state.get("reads"), marks=marks)


def caps_of(resources: Resources) -> InputCapsByPrincipal:
    return resources.caps


def limits_of(resources: Resources) -> Limits:
    settings = resources.settings
    return Limits(
        max_page_size=settings.max_page_size,
        max_fleet_devices=settings.max_fleet_devices,
        caps=caps_of(resources),
    )
