"""What the lifespan hands out to requests: the pool and the long-lived services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from gateway.settings import Settings


@dataclass
class Resources:
    settings: Settings
    pool: asyncpg.Pool
    verifier: Any = None
    dev_issuer: Any = None
    cache: Any = None
    listener: Any = None
    events: Any = None
    notifier: Any = None
