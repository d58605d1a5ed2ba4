"""The change feed's retention in a running gateway: its oldest events pruned every hour."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

import asyncpg

from gateway.rounds import rounds
from gateway.settings import Settings
from loaders.audit import Actor
from loaders.db import Db
from resolvers.feed_retention import prune

INTERVAL = 3600.0
FIRST_DELAY = 60.0  # the first round waits until start-up is well over
ACTOR = Actor("fir-graph:retention", None)
log = logging.getLogger("fir.retention")


@contextlib.asynccontextmanager
async def feed_retention(
    settings: Settings, pool: asyncpg.Pool, *, interval: float = INTERVAL, first_delay: float = FIRST_DELAY
) -> AsyncIterator[asyncio.Task[None] | None]:
    """Prunes while the gateway runs, unless FIR_CHANGE_FEED_RETENTION_DAYS is 0. Every process may
    run it (workers, replicas): a round that finds nothing due writes nothing, and two rounds at once
    take turns on the feed's counter row."""
    days = settings.change_feed_retention_days
    if days == 0:
        yield None
        return
    older_than = dt.timedelta(days=days)

    async def prune_round() -> None:
        pruned = await prune(Db(pool), ACTOR, older_than)
        if pruned.deleted:
            log.info(
                "change feed retention: %d events older than %d days pruned, through position %d",
                pruned.deleted,
                days,
                pruned.through,
            )

    what = "change feed retention: pruning"
    async with rounds(prune_round, interval=interval, first_delay=first_delay, what=what, log=log) as task:
        yield task
