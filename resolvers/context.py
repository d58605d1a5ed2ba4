"""The typed per-request context every resolver receives."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from loaders.registry import Loaders
from resolvers.principal import Principal


@dataclass(frozen=True)
class InputCaps:
    """How much input one request may carry, checked before any of it is coerced or parsed further."""

    body_bytes: int
    list_items: int
    entities: int


@dataclass(frozen=True)
class InputCapsByPrincipal:
    """Anonymous callers get the smallest caps, SECAS the largest; any token holder the middle."""

    anonymous: InputCaps = InputCaps(body_bytes=128 * 1024, list_items=1_000, entities=100)
    authenticated: InputCaps = InputCaps(body_bytes=32 * 1024 * 1024, list_items=100_000, entities=1_000)
    admin: InputCaps = InputCaps(body_bytes=128 * 1024 * 1024, list_items=1_000_000, entities=10_000)

    def of(self, principal: Principal) -> InputCaps:
        if principal.is_admin:
            return self.admin
        return self.anonymous if principal.anonymous else self.authenticated


@dataclass
class Limits:
    max_page_size: int = 100
    max_fleet_devices: int = 1_000_000
    caps: InputCapsByPrincipal = field(default_factory=InputCapsByPrincipal)


@dataclass
class Context:
    principal: Principal
    loaders: Loaders
    limits: Limits = field(default_factory=Limits)
    # Errors for fields that answer an empty list rather than null when forbidden (non-null lists).
    extra_errors: list[Any] = field(default_factory=list)
    request: Any = None
    # resolvers.events.ReleaseEvents from the lifespan: the source of the firmwareReleased subscription.
    events: Any = None
    # The connection_init payload of a WebSocket (subscriptions): where its token travels.
    connection_params: Any = None
    response: Any = None
    # The variables were parsed from this request's own body (HTTP), so execution may release what it
    # has consumed (a fleet's million objects); a caller that passed its own objects keeps them intact.
    owns_input: bool = False
    # `_entities` representations this request has resolved so far, held to the caller's cap
    entities_seen: int = 0

    def for_operation(self) -> Context:
        """This context for one operation of a long-lived connection (a WebSocket runs many): its own
        loaders, forbidden-list errors and entity count, the connection's caller and request."""
        return dataclasses.replace(self, loaders=self.loaders.fresh(), extra_errors=[], entities_seen=0)

    @property
    def memo(self) -> dict[Any, Any]:
        """Per-request computations keyed by what they depend on (e.g. a model's visible releases),
        kept by the loaders and cleared with them (Loaders.clear_all)."""
        return self.loaders.memo
