"""Release publications as a stream: one PostgreSQL LISTEN per replica, fanned out to its subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Sequence

from loaders.release_writes import Listener
from loaders.rows import ReleaseRow
from resolvers.context import Context
from resolvers.identity import require_hex
from resolvers.visibility import can_see_release

log = logging.getLogger("fir.events")

_END = -1  # queued to end a subscriber's stream (stop, or a subscriber too slow to keep up)


class ReleaseEvents:
    """Publication notices from PostgreSQL, for every subscriber in this process.

    Every replica listens, so a publish through any replica (or the CPL import) reaches every
    subscriber. Notices sent while the connection is down are lost: PostgreSQL keeps none.
    """

    def __init__(
        self, *, retry_seconds: float = 1.0, ping_seconds: float = 30.0, queue_size: int = 1000
    ) -> None:
        self.retry_seconds = retry_seconds
        self.ping_seconds = ping_seconds
        self.queue_size = queue_size
        self.connected = asyncio.Event()
        self._queues: set[asyncio.Queue[int]] = set()
        self._listener: Listener | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._url = ""

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def start(self, url: str) -> None:
        """Connect once (failing loudly if the database is unreachable), then keep reconnecting."""
        self._url = url
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="fir-release-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()
        for queue in list(self._queues):
            self._end(queue)

    def subscribe(self) -> AsyncGenerator[int, None]:
        """Release ids as published; registered now, so nothing published after this call is missed."""
        queue: asyncio.Queue[int] = asyncio.Queue(self.queue_size)
        self._queues.add(queue)
        return self._drain(queue)

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

    async def _connect(self) -> None:
        self._lost.clear()
        self._listener = await Listener.open(self._url, self._publish, self._lost.set)
        self.connected.set()

    async def _disconnect(self) -> None:
        self.connected.clear()
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()

    async def _supervise(self) -> None:
        while True:
            await self._wait_until_lost()
            log.warning("release event listener lost its connection; reconnecting")
            await self._disconnect()
            await self._reconnect()

    async def _wait_until_lost(self) -> None:
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self.ping_seconds)
                return
            try:
                assert self._listener is not None
                await self._listener.ping(self.ping_seconds)
            except Exception:  # any failure of the ping means the connection is no use
                self._lost.set()

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                await self._connect()
                log.info("release event listener reconnected")
                return
            except Exception as error:  # the database is down or restarting: keep trying
                log.warning("release event listener cannot reconnect yet: %s", error)


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
