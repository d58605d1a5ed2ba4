"""Building the typed per-request Context: principal, fresh DataLoaders, limits."""

from __future__ import annotations

from typing import Any

from gateway.resources import Resources
from loaders.db import Db
from loaders.registry import build_loaders
from resolvers.context import Context, InputCapsByPrincipal, Limits
from resolvers.principal import Principal


def build_context(
    resources: Resources, principal: Principal, request: Any = None, response: Any = None
) -> Context:
    """Called inside the request's running loop: aiodataloader binds the loop at construction."""
    return Context(
        principal=principal,
        loaders=build_loaders(Db(resources.pool)),
        limits=limits_of(resources),
        request=request,
        response=response,
        events=resources.events,
    )


def caps_of(resources: Resources) -> InputCapsByPrincipal:
    return resources.caps


def limits_of(resources: Resources) -> Limits:
    settings = resources.settings
    return Limits(
        max_page_size=settings.max_page_size,
        max_fleet_devices=settings.max_fleet_devices,
        caps=caps_of(resources),
    )
