"""The demo dataset as the graph serves it: loaded by COPY (loaders/demo.py), then given its leaves by backfill."""

from __future__ import annotations

from loaders.audit import Actor
from loaders.db import Db
from loaders.demo import DemoSummary, Progress, load_demo_data
from loaders.demo_plan import ACTOR
from resolvers import log_backfill


async def load_demo(
    db: Db, *, scale: int = 1, progress: Progress | None = None, leaves: log_backfill.Progress | None = None
) -> DemoSummary:
    """COPY bypasses the unit of work and its log consumer, so the log learns the dataset by backfill.

    Two steps, not one transaction: should the second fail, `fir log backfill` (idempotent) completes it.
    Raises DatabaseNotEmptyError when any manufacturer exists already.
    """
    async with db.pool.acquire() as conn:
        summary = await load_demo_data(conn, scale=scale, progress=progress)
    await log_backfill.backfill(db, Actor(ACTOR, None), leaves)
    return summary
