"""The durable change feed: which recorded changes it keeps, who may read each, and paging by cursor."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from loaders import changes as feed
from loaders.audit import Actor
from loaders.changes import Audience, ChangeEventRow, FeedEntry, FeedFilter
from loaders.db import Db
from loaders.rows import CplEntryRow, ReleaseRow
from loaders.vocabulary import AuditAction, ChangeKind, CplStatus
from resolvers.context import Context
from resolvers.errors import CursorExpired
from resolvers.identity import require_hex
from resolvers.pagination import Keyset, Page, fetch_page, serial_key
from resolvers.principal import Principal

if TYPE_CHECKING:  # the unit of work imports this module to run its consumer
    from resolvers.unit_of_work import Change

CURSOR_KIND = "change"
_RELEASE_KINDS = {
    AuditAction.RELEASE_PUBLISH: ChangeKind.RELEASE_PUBLISHED,
    AuditAction.RELEASE_WITHDRAW: ChangeKind.RELEASE_WITHDRAWN,
    AuditAction.RELEASE_AMEND: ChangeKind.RELEASE_AMENDED,
}


async def record_changes(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
    """The change consumer: the feed's events of this unit of work, appended in its transaction."""
    await feed.append(tx, [e for e in map(_entry, changes) if e is not None])


def _entry(change: Change) -> FeedEntry | None:
    if change.action in _RELEASE_KINDS and isinstance(change.after, ReleaseRow):
        return _release_entry(_RELEASE_KINDS[change.action], change.after)
    if change.action is AuditAction.CONTACTS_SET:
        return FeedEntry(ChangeKind.CONTACTS_CHANGED, change.entity_id, "fir")
    if change.action is AuditAction.CPL_ENTRY_REMOVE and isinstance(change.before, CplEntryRow):
        # removeCplEntry's `after` is the entry plus SECAS's reason, not a row
        return _cpl_entry(ChangeKind.CPL_ENTRY_REMOVED, change.before)
    if isinstance(change.after, CplEntryRow):
        kind = _cpl_kind(change.before, change.after)
        return None if kind is None else _cpl_entry(kind, change.after)
    return None


def _cpl_entry(kind: ChangeKind, row: CplEntryRow) -> FeedEntry:
    return FeedEntry(kind, row.manufacturer_id, "public", None, row.number)


def _release_entry(kind: ChangeKind, row: ReleaseRow) -> FeedEntry:
    # an amendment before publication is the owner's business, as the submission itself is, and so is
    # the withdrawal of a submission never published
    audience = "fir" if row.is_public else "owner"
    return FeedEntry(kind, row.manufacturer_id, audience, row.id)


def _cpl_kind(before: object, after: CplEntryRow) -> ChangeKind | None:
    was_current = isinstance(before, CplEntryRow) and before.status == CplStatus.CURRENT
    if after.status == CplStatus.CURRENT and not was_current:
        return ChangeKind.CPL_ENTRY_LISTED
    if after.status == CplStatus.REMOVED and (before is None or was_current):
        return ChangeKind.CPL_ENTRY_REMOVED
    if isinstance(before, CplEntryRow) and before != after:  # any other fact of the entry changed
        return ChangeKind.CPL_ENTRY_UPDATED
    return None


def audience_of(principal: Principal) -> Audience:
    """SECAS reads everything; fir:read the public FIR; a publisher its own manufacturers' events too."""
    return Audience(principal.is_admin, principal.can_read, principal.publishes_for)


def feed_filter(manufacturer_ids: Sequence[str] | None, kinds: Sequence[ChangeKind] | None) -> FeedFilter:
    makers = None
    if manufacturer_ids is not None:
        makers = frozenset(require_hex(m, 4, f"manufacturerIds[{i}]") for i, m in enumerate(manufacturer_ids))
    return FeedFilter(makers, None if kinds is None else frozenset(str(k) for k in kinds))


def _position(key: str | None) -> int:
    """0 (the beginning) without a cursor; a cursor is any event's, whether or not the caller saw it."""
    return serial_key(key) or 0


_FEED: Keyset[int, ChangeEventRow] = Keyset(CURSOR_KIND, _position, lambda r: str(r.position))
position_of = _FEED.position_of


async def changes(
    ctx: Context, first: int | None, after: str | None, where: FeedFilter
) -> Page[ChangeEventRow]:
    """Oldest first, after the cursor: a client stores the last cursor it read and asks again from it."""
    who = audience_of(ctx.principal)
    page = await fetch_page(
        _FEED,
        first,
        after,
        ctx.limits.max_page_size,
        lambda position, limit: feed.page(ctx.loaders.db, after=position, limit=limit, who=who, where=where),
    )
    if after is not None:
        still_held(position_of(after), await feed.pruned_through(ctx.loaders.db))
    return page


def still_held(position: int, pruned_through: int) -> None:
    """CURSOR_EXPIRED when retention pruned events after `position`; nothing when every one is held.

    Asked after the page is read: a prune deletes a prefix and moves the horizon in one transaction, so
    a page read before it committed is whole, and one read after it is caught here (never a silent gap)."""
    if position < pruned_through:
        raise CursorExpired(
            f"the change feed no longer holds the events after this cursor: events up to position"
            f" {pruned_through} were pruned (FIR_CHANGE_FEED_RETENTION_DAYS). Read the current state"
            " again, then follow the feed from the start (no cursor).",
            field="after",
            prunedThrough=pruned_through,
        )


# --- the subscription -----------------------------------------------------------------------------

REPLAY_PAGE = 100


def changed(ctx: Context, after: str | None, where: FeedFilter) -> AsyncGenerator[ChangeEventRow, None]:
    """Checks run now, before anything streams; then every event after the cursor, then live.

    One loop does both: it reads the feed from the last position it yielded whenever it is woken,
    so replay and live are the same read and no event can fall between them or come twice.
    """
    if ctx.events is None:
        raise RuntimeError("no ReleaseEvents in the context: subscriptions are not wired")
    return _follow(ctx, None if after is None else position_of(after), audience_of(ctx.principal), where)


async def _follow(
    ctx: Context, position: int | None, who: Audience, where: FeedFilter
) -> AsyncGenerator[ChangeEventRow, None]:
    """`position` None: from the oldest event still held. Retention is checked at every read, so a
    subscriber that fell behind it (it would take a year) ends with CURSOR_EXPIRED, never skips."""
    with ctx.events.watching_changes() as woken:  # registered before the first read: no wake-up lost
        while True:
            woken.clear()
            found, mark = await feed.page_and_mark(
                ctx.loaders.db, after=position or 0, limit=REPLAY_PAGE, who=who, where=where
            )
            if position is not None:
                still_held(position, await feed.pruned_through(ctx.loaders.db))
            ctx.loaders.clear_all()  # the context lives as long as the stream: no stale answers
            for row in found:
                position = row.position
                yield row
            if len(found) < REPLAY_PAGE:
                # read up to the mark: the next read starts there, not at the last event sent (a
                # subscriber whose filter matched nothing scanned the whole feed at every wake-up)
                position = max(position or 0, mark)
                # a notice, or the notifier's sync (each reconnection, every check interval)
                await woken.wait()
