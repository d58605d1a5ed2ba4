"""SQL for the audit log: written in the caller's transaction, read by SECAS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import rows
from loaders.db import Db

_COLUMNS = "id, occurred_at, actor, organisation, action, entity_type, entity_id, before, after"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who the audit rows of one unit of work name."""

    actor: str
    organisation: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row to write; `before` and `after` are JSON text (or None) in the canonical shape."""

    action: str
    entity_type: str
    entity_id: str
    before: str | None
    after: str | None


async def record(db: Db, who: Actor, entries: Sequence[AuditEntry]) -> None:
    """Every entry in one statement, in the given order (ids follow it), in the caller's transaction."""
    if not entries:
        return
    await db.execute(
        "insert into audit_events (actor, organisation, action, entity_type, entity_id, before, after)"
        " select $1, $2, a, t, i, b::jsonb, f::jsonb"
        " from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
        " with ordinality as u(a, t, i, b, f, o) order by o",
        who.actor,
        who.organisation,
        [e.action for e in entries],
        [e.entity_type for e in entries],
        [e.entity_id for e in entries],
        [e.before for e in entries],
        [e.after for e in entries],
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
