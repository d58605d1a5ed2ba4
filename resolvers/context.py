"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loaders.registry import Loaders
from resolvers.principal import Principal


@dataclass
class Limits:
    max_page_size: int = 100
    max_fleet_devices: int = 1_000_000


@dataclass
class Context:
    principal: Principal
    loaders: Loaders
    limits: Limits = field(default_factory=Limits)
    # Errors for fields that answer an empty list rather than null when forbidden (non-null lists).
    extra_errors: list[Any] = field(default_factory=list)
    # Memo of per-request computations keyed by what they depend on (e.g. a model's analysis).
    memo: dict[Any, Any] = field(default_factory=dict)
    request: Any = None
    # resolvers.events.ReleaseEvents from the lifespan: the source of the firmwareReleased subscription.
    events: Any = None
    # The connection_init payload of a WebSocket (subscriptions): where its token travels.
    connection_params: Any = None
    response: Any = None
