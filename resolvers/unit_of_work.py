"""The one write path: a transaction in which every change is recorded once, then handed to its consumers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import orjson

from loaders import audit
from loaders import release_writes as rw
from loaders.audit import Actor
from loaders.db import Db
from loaders.registry import Loaders
from loaders.vocabulary import AuditAction, EntityType
from resolvers import change_feed
from resolvers.principal import Principal


@dataclass(frozen=True, slots=True)
class Change:
    """One domain change, in the canonical shape.

    `before` and `after` are the entity's row dataclass (or, for a set such as contacts, a list
    of them or of plain dicts), serialised by orjson: the row's field names as keys, dates and
    times in ISO 8601, tuples as arrays. A mutation, `listCplEntry` and the CPL import all build
    their changes from the same row dataclasses, so one action has one shape whichever path made it.
    """

    action: AuditAction
    entity_type: EntityType
    entity_id: str
    before: object = None
    after: object = None


# A consumer sees every change of a unit of work, in order, inside its transaction, just before
# commit: whatever it writes commits or rolls back with the change. The change feed and the
# transparency log are added here, and nowhere else.
ChangeConsumer = Callable[[Db, Actor, Sequence[Change]], Awaitable[None]]


async def write_audit(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
    """Every change becomes one audit event, in one statement."""
    await audit.record(tx, who, [_audit_entry(c) for c in changes])


async def announce_publications(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
    """Subscribers hear of a publication through NOTIFY, which PostgreSQL delivers only on commit."""
    published = [int(c.entity_id) for c in changes if c.action is AuditAction.RELEASE_PUBLISH]
    await rw.notify_published(tx, published)


async def append_to_log(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
    """The transparency log's consumer (resolvers/transparency.py), imported late: it imports Change."""
    from resolvers import transparency

    await transparency.append_to_log(tx, who, changes)


# The change feed comes last: its counter row lock is then held only for the last moment before commit.
CONSUMERS: tuple[ChangeConsumer, ...] = (
    write_audit,
    announce_publications,
    append_to_log,
    change_feed.record_changes,
)


@dataclass
class UnitOfWork:
    """A transaction-bound Db and the changes recorded in it so far."""

    tx: Db
    who: Actor
    changes: list[Change] = field(default_factory=list)

    def record(self, change: Change) -> None:
        self.changes.append(change)

    def record_all(self, changes: Sequence[Change]) -> None:
        self.changes.extend(changes)


@contextlib.asynccontextmanager
async def unit_of_work(db: Db, who: Actor, *, loaders: Loaders | None = None) -> AsyncIterator[UnitOfWork]:
    """Validate and write inside; on leaving, the consumers run and the transaction commits.

    An exception rolls everything back: the writes, the audit events, the notices. Every write
    statement also bumps the data version in the same transaction (statement triggers of
    migration 0001), so response caches on every replica see the commit. After commit the
    request's DataLoaders are cleared, so the mutation's answer reads what it wrote.
    """
    async with db.transaction() as tx:
        work = UnitOfWork(tx, who)
        yield work
        if work.changes:
            for consume in CONSUMERS:
                await consume(tx, who, work.changes)
    if loaders is not None:
        loaders.clear_all()


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.actor, principal.organisation)


def _audit_entry(c: Change) -> audit.AuditEntry:
    return audit.AuditEntry(c.action, c.entity_type, c.entity_id, _json(c.before), _json(c.after))


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
