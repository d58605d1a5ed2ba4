"""SQL for the audit log: written in the caller's transaction, read by SECAS."""

from __future__ import annotations

import datetime as dt
from typing import Any

from loaders import rows
from loaders.db import Db

_COLUMNS = "id, occurred_at, actor, organisation, action, entity_type, entity_id, before, after"


async def record(
    db: Db,
    *,
    actor: str,
    organisation: str | None,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> None:
    await db.execute(
        "insert into audit_events (actor, organisation, action, entity_type, entity_id, before, after)"
        " values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)",
        actor,
        organisation,
        action,
        entity_type,
        entity_id,
        before,
        after,
    )


async def audit_page(
    db: Db,
    *,
    before_id: int | None,
    limit: int,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[rows.AuditEventRow]:
    """Newest first, keyset-paged on id."""
    return [
        rows.audit_event(r)
        for r in await db.fetch(
            f"select {_COLUMNS} from audit_events"
            " where ($1::bigint is null or id < $1)"
            " and ($2::text is null or entity_type = $2)"
            " and ($3::text is null or entity_id = $3)"
            " and ($4::text is null or actor = $4)"
            " and ($5::timestamptz is null or occurred_at >= $5)"
            " and ($6::timestamptz is null or occurred_at < $6)"
            " order by id desc limit $7",
            before_id,
            entity_type,
            entity_id,
            actor,
            since,
            until,
            limit,
        )
    ]
