"""The Schema object: Federation 2 subgraph with limits, caches and error shaping."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionResult
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache

from schema.catalogue import CplEntry, DeviceModel, Manufacturer
from schema.errors import shape_result
from schema.limits import complexity_rule
from schema.query import Query
from schema.releases import FirmwareRelease

FEDERATION_VERSION = "2.11"


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000


class FirSchema(strawberry.federation.Schema):
    """Errors are shaped after execution, whatever stage raised them (parse errors escape extensions)."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        context = kwargs.get("context_value") if "context_value" in kwargs else (args[2] if len(args) > 2 else None)
        result.errors = shape_result(result.errors, getattr(context, "extra_errors", None))
        return result

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Logging happens once, in shape(), for unexpected errors only."""


def build_schema(limits: SchemaLimits | None = None) -> FirSchema:
    limits = limits or SchemaLimits()
    return FirSchema(
        query=Query,
        types=[Manufacturer, DeviceModel, CplEntry, FirmwareRelease],
        federation_version=FEDERATION_VERSION,  # type: ignore[arg-type]
        extensions=[
            partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
            partial(AddValidationRules, [complexity_rule(limits.max_depth, limits.max_aliases)]),
            partial(ParserCache, maxsize=1024),
            partial(ValidationCache, maxsize=1024),
        ],
    )
