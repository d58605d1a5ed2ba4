"""The audit log as SECAS reads it: every change, who made it, before and after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from loaders.rows import AuditEventRow
from resolvers import administration as admin
from resolvers.context import Context
from schema import from_rows
from schema.pagination import Connection, connection

Ctx = Info[Context, Any]


@strawberry.type(description="One change to the FIR: who, what, when, and the record before and after.")
class AuditEvent:
    id: strawberry.ID
    occurred_at: dt.datetime
    actor: str = strawberry.field(description="The token subject that made the change.")
    organisation: str | None
    action: str = strawberry.field(description="e.g. firmwareRelease.submit, cplEntry.remove")
    entity_type: str
    entity_id: str
    before: JSON | None
    after: JSON | None
    from_row: ClassVar[Callable[[AuditEventRow], AuditEvent]]


AuditEvent.from_row = from_rows.derive(AuditEvent, AuditEventRow, converted={"id": (str, strawberry.ID)})


async def audit_log(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Connection[AuditEvent]:
    """Newest first. Not nullable, so a caller without fir:admin gets FORBIDDEN and no data."""
    where = admin.AuditFilter(
        entity_type=entity_type, entity_id=entity_id, actor=actor, since=since, until=until
    )
    page = await admin.audit_log(info.context, first, after, where)
    return connection(page, AuditEvent.from_row)
