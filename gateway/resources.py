"""What the lifespan hands out to requests: the pool and the long-lived services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from gateway.settings import Settings
from gateway.trusted_documents import TrustedDocuments
from resolvers.context import InputCaps, InputCapsByPrincipal


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
    fleet_jobs: Any = None  # gateway.fleet_jobs.FleetJobs
    log_verifier_key: Any = None  # resolvers.checkpoints.VerifierKey
    replicas: Any = None  # gateway.replicas.ReplicaSet, when FIR_DATABASE_READ_URLS names any
    trusted_documents: TrustedDocuments = field(init=False)
    caps: InputCapsByPrincipal = field(init=False)  # read on every request: built once

    def __post_init__(self) -> None:
        self.trusted_documents = TrustedDocuments(self.settings.trusted_documents_only)
        self.caps = input_caps(self.settings)


def input_caps(settings: Settings) -> InputCapsByPrincipal:
    tiers = zip(settings.max_body_bytes, settings.max_list_items, settings.max_entities, strict=True)
    anonymous, authenticated, admin = (InputCaps(*tier) for tier in tiers)
    return InputCapsByPrincipal(anonymous, authenticated, admin)
