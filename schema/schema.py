"""The Schema object: Federation 2 subgraph with limits, caches and error shaping."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache

from schema.catalogue import CplEntry, DeviceModel, Manufacturer
from schema.errors import ErrorShaping
from schema.limits import complexity_rule
from schema.query import Query
from schema.releases import FirmwareRelease

FEDERATION_VERSION = "2.11"


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000


def build_schema(limits: SchemaLimits | None = None) -> strawberry.federation.Schema:
    limits = limits or SchemaLimits()
    return strawberry.federation.Schema(
        query=Query,
        types=[Manufacturer, DeviceModel, CplEntry, FirmwareRelease],
        federation_version=FEDERATION_VERSION,  # type: ignore[arg-type]
        extensions=[
            ErrorShaping,
            partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
            partial(AddValidationRules, [complexity_rule(limits.max_depth, limits.max_aliases)]),
            partial(ParserCache, maxsize=1024),
            partial(ValidationCache, maxsize=1024),
        ],
    )
