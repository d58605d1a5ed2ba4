"""The Subscription root: releases as published, and the change feed from a cursor; access-checked per event."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import strawberry
from strawberry.types import Info

from resolvers import change_feed, events
from resolvers.context import Context
from schema.changes import ChangeEvent
from schema.enums import ChangeKind
from schema.releases import FirmwareRelease

Ctx = Info[Context, Any]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each release as it becomes PUBLISHED; no filter means every manufacturer or model."
        " The filters combine with AND: a model id is unique only within its manufacturer, so modelIds"
        " alone matches that id at every manufacturer.",
    )
    async def firmware_released(
        self, info: Ctx, manufacturer_ids: list[str] | None = None, model_ids: list[str] | None = None
    ) -> AsyncGenerator[FirmwareRelease, None]:
        # aclosing: a client that unsubscribes must release its place in the broadcaster at once
        async with aclosing(events.released(info.context, manufacturer_ids, model_ids)) as rows:
            async for row in rows:
                yield FirmwareRelease.from_row(row)

    @strawberry.subscription(
        description="The change feed from a stored cursor (none: from the beginning), then live;"
        " each event once, in order, as visible as in `changes`.",
    )
    async def changed(
        self,
        info: Ctx,
        after: str | None = None,
        manufacturer_ids: list[str] | None = None,
        kinds: list[ChangeKind] | None = None,
    ) -> AsyncGenerator[ChangeEvent, None]:
        where = change_feed.feed_filter(manufacturer_ids, kinds)
        async with aclosing(change_feed.changed(info.context, after, where)) as rows:
            async for row in rows:
                yield ChangeEvent.from_row(row)
