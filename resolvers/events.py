"""Release publications as a stream: notices from the process's notifier, fanned out to its subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Iterator, Sequence

from loaders.rows import ReleaseRow
from resolvers.context import Context
from resolvers.identity import require_hex
from resolvers.visibility import can_see_release

log = logging.getLogger("fir.events")

_END = -1  # queued to end a subscriber's stream (stop, or a subscriber too slow to keep up)


class ReleaseEvents:
    """Publication notices for every subscriber in this process, fed by the gateway's notifier.

    Every replica listens, so a publish through any replica (or the CPL import) reaches every
    subscriber. Notices sent while the notifier is disconnected are lost: PostgreSQL keeps none.
    """

    def __init__(self, *, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._queues: set[asyncio.Queue[int]] = set()
        self._change_waiters: set[asyncio.Event] = set()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def stop(self) -> None:
        """End every stream (the process is shutting down)."""
        for queue in list(self._queues):
            self._end(queue)

    @contextlib.contextmanager
    def watching_changes(self) -> Iterator[asyncio.Event]:
        """An event set whenever the change feed may have grown: a change notice, or the notifier's sync."""
        woken = asyncio.Event()
        self._change_waiters.add(woken)
        try:
            yield woken
        finally:
            self._change_waiters.discard(woken)

    def wake_change_readers(self, payload: str = "") -> None:
        """The change feed's notice is only a wake-up: readers read the feed itself from their cursor."""
        for woken in self._change_waiters:
            woken.set()

    async def sync_change_readers(self, conn: object) -> None:
        """After a (re)connection and every check interval: notices sent while disconnected are lost."""
        self.wake_change_readers()

    def subscribe(self) -> AsyncGenerator[int, None]:
        """Release ids as published; registered now, so nothing published after this call is missed."""
        queue: asyncio.Queue[int] = asyncio.Queue(self.queue_size)
        self._queues.add(queue)
        return self._drain(queue)

    def deliver(self, payload: str) -> None:
        """A notice's payload: a release id. Anyone may NOTIFY the channel; anything else is ignored."""
        if payload.isdigit():
            self._publish(int(payload))

    async def _drain(self, queue: asyncio.Queue[int]) -> AsyncGenerator[int, None]:
        try:
            while (item := await queue.get()) != _END:
                yield item
        finally:
            self._queues.discard(queue)

    def _publish(self, release_id: int) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(release_id)
            except asyncio.QueueFull:
                log.warning("a release subscriber fell %d events behind; ending its stream", self.queue_size)
                self._end(queue)

    def _end(self, queue: asyncio.Queue[int]) -> None:
        """Empty the queue and end the stream: the client resubscribes rather than silently missing events."""
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(_END)
        self._queues.discard(queue)


def released(
    ctx: Context, manufacturer_ids: Sequence[str] | None, model_ids: Sequence[str] | None
) -> AsyncGenerator[ReleaseRow, None]:
    """Checks run now, before anything streams; the stream yields what this caller may see.

    Who may subscribe at all is the field's rule (schema.access); each event is then filtered by row.
    """
    if ctx.events is None:
        raise RuntimeError("no ReleaseEvents in the context: subscriptions are not wired")
    makers = _hex_set(manufacturer_ids, 4, "manufacturerIds")
    models = _hex_set(model_ids, 4, "modelIds")
    ids: AsyncGenerator[int, None] = ctx.events.subscribe()
    return _matching(ctx, ids, makers, models)


def _hex_set(values: Sequence[str] | None, digits: int, field: str) -> frozenset[str] | None:
    if values is None:
        return None
    return frozenset(require_hex(v, digits, f"{field}[{i}]") for i, v in enumerate(values))


async def _matching(
    ctx: Context, ids: AsyncGenerator[int, None], makers: frozenset[str] | None, models: frozenset[str] | None
) -> AsyncGenerator[ReleaseRow, None]:
    try:
        async for release_id in ids:
            # The context lives as long as the subscription: loaders must not answer from old caches.
            ctx.loaders.clear_all()
            row = await ctx.loaders.release_by_id.load(release_id)
            if row is None or not can_see_release(ctx.principal, row):
                continue
            if (makers is None or row.manufacturer_id in makers) and (
                models is None or row.model_id in models
            ):
                yield row
    finally:
        await ids.aclose()
