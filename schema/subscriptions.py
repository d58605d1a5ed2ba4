"""The Subscription root: firmware releases as they are published, filtered and access-checked per event."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import strawberry
from strawberry.types import Info

from resolvers import events
from resolvers.context import Context
from schema.releases import FirmwareRelease

Ctx = Info[Context, Any]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each release as it becomes PUBLISHED; no filter means every manufacturer or model.",
    )
    async def firmware_released(
        self, info: Ctx, manufacturer_ids: list[str] | None = None, model_ids: list[str] | None = None
    ) -> AsyncGenerator[FirmwareRelease, None]:
        # aclosing: a client that unsubscribes must release its place in the broadcaster at once
        async with aclosing(events.released(info.context, manufacturer_ids, model_ids)) as rows:
            async for row in rows:
                yield FirmwareRelease.from_row(row)
