"""The durable change feed: events oldest first after a stored cursor, each as visible as its record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from loaders.changes import ChangeEventRow
from resolvers import catalogue, change_feed
from resolvers import releases as release_rules
from resolvers.context import Context
from resolvers.pagination import encode_cursor
from schema.catalogue import CplEntry
from schema.enums import ChangeKind
from schema.pagination import Connection, connection
from schema.releases import FirmwareRelease

Ctx = Info[Context, Any]


@strawberry.type(description="One change to the FIR, in the order changes committed.")
class ChangeEvent:
    cursor: str = strawberry.field(
        description="Store it: `changes(after:)` and `changed(after:)` resume just after this event."
    )
    kind: ChangeKind
    occurred_at: dt.datetime
    manufacturer_id: str
    release_id: strawberry.ID | None = strawberry.field(description="For the RELEASE_ kinds.")
    cpl_entry_number: int | None = strawberry.field(description="For the CPL_ENTRY_ kinds.")

    @strawberry.field(description="The release as it is now, if the caller may see it.")
    async def release(self, info: Ctx) -> FirmwareRelease | None:
        if self.release_id is None:
            return None
        row = await release_rules.release(info.context, str(self.release_id))
        return FirmwareRelease.from_row(row) if row else None

    @strawberry.field(description="The CPL entry as it is now.")
    async def cpl_entry(self, info: Ctx) -> CplEntry | None:
        if self.cpl_entry_number is None:
            return None
        row = await catalogue.cpl_entry(info.context, self.cpl_entry_number)
        return CplEntry.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: ChangeEventRow) -> ChangeEvent:
        return cls(
            cursor=encode_cursor(change_feed.CURSOR_KIND, str(row.position)),
            kind=ChangeKind(row.kind),
            occurred_at=row.occurred_at,
            manufacturer_id=row.manufacturer_id,
            release_id=None if row.release_id is None else strawberry.ID(str(row.release_id)),
            cpl_entry_number=row.cpl_entry_number,
        )


async def changes(
    info: Ctx,
    after: str | None = None,
    first: int | None = None,
    manufacturer_ids: list[str] | None = None,
    kinds: list[ChangeKind] | None = None,
) -> Connection[ChangeEvent]:
    """Oldest first after `after`; an empty page (endCursor null) means nothing new: keep the cursor."""
    where = change_feed.feed_filter(manufacturer_ids, kinds)
    page = await change_feed.changes(info.context, first, after, where)
    return connection(page, ChangeEvent.from_row)
