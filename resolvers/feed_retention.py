"""Retention of the change feed: its oldest events deleted, audited, through the one write path."""

from __future__ import annotations

import datetime as dt

from loaders import changes as feed
from loaders.audit import Actor
from loaders.changes import Pruned
from loaders.db import Db
from loaders.vocabulary import AuditAction, EntityType
from resolvers.unit_of_work import Change, unit_of_work


async def prune(db: Db, who: Actor, older_than: dt.timedelta, now: dt.datetime | None = None) -> Pruned:
    """Deletes the events that occurred more than `older_than` ago, oldest first (loaders.changes.prune),
    and audits the deletion (`changeFeed.prune`); nothing is written when no event is due."""
    before = (now or dt.datetime.now(dt.UTC)) - older_than
    async with unit_of_work(db, who) as work:
        pruned = await feed.prune(work.tx, before)
        if pruned.deleted:
            after = {"deleted": pruned.deleted, "prunedThrough": pruned.through, "before": before}
            work.record(Change(AuditAction.CHANGE_FEED_PRUNE, EntityType.CHANGE_FEED, "changes", None, after))
    return pruned
