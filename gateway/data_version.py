"""The data-version listener: LISTEN on a dedicated connection, clear the response cache on every write."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from gateway.cache_store import ResponseCache
from gateway.settings import Settings
from loaders.data_version import CHANNEL, connect_listener, current_version

log = logging.getLogger("fir.cache")

_CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class ConnectionLost(Exception):
    pass


class DataVersionListener:
    """Keeps `cache.version` current while connected; `healthy` tells the cache when it cannot.

    After every (re)connection the committed version is read again after LISTEN took effect, so a
    write that committed while disconnected clears the cache even though its notification is lost.
    The same read repeats every `check_interval` seconds: a liveness probe and a safety net.
    """

    def __init__(
        self,
        url: str,
        cache: ResponseCache,
        *,
        check_interval: float = 30.0,
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self.url = url
        self.cache = cache
        self.check_interval = check_interval
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.connection: asyncpg.Connection | None = None
        self.connections = 0  # how many times it connected: tests watch reconnection with it
        self._synced = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._delay = min_backoff

    @property
    def healthy(self) -> bool:
        conn = self.connection
        return self._synced.is_set() and conn is not None and not conn.is_closed()

    async def start(self, wait: float = 5.0) -> None:
        """Start listening; wait briefly for the first sync so the first requests skip the fallback."""
        self._task = asyncio.create_task(self._run(), name="fir-data-version-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self.wait_synced()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop()

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except (*_CONNECTION_ERRORS, ConnectionLost) as error:
                log.warning("data version listener disconnected (%s); retrying in %.1fs", error, self._delay)
            await self._drop()
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, self.max_backoff)

    async def _session(self) -> None:
        conn = await connect_listener(self.url)
        self.connection = conn
        self._lost.clear()
        conn.add_termination_listener(self._on_terminated)
        await conn.add_listener(CHANNEL, self._on_notify)
        await self._sync(conn)  # after LISTEN: nothing committed since can slip through unseen
        self.connections += 1
        self._delay = self.min_backoff  # a good session earns a quick first retry after it ends
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_interval):
                    await self._lost.wait()
            if self._lost.is_set() or conn.is_closed():
                raise ConnectionLost("connection closed")
            await self._sync(conn)

    async def _sync(self, conn: asyncpg.Connection) -> None:
        self.cache.reset(await current_version(conn))
        self._synced.set()

    def _on_notify(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        try:
            self.cache.advance(int(payload))
        except ValueError:
            log.warning("unexpected %s payload %r: clearing the response cache", CHANNEL, payload)
            self.cache.invalidate()

    def _on_terminated(self, conn: Any) -> None:
        self._synced.clear()
        self._lost.set()

    async def _drop(self) -> None:
        self._synced.clear()
        conn, self.connection = self.connection, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await asyncio.wait_for(conn.close(), 2)
            if not conn.is_closed():
                conn.terminate()


async def start_response_cache(
    settings: Settings, url: str, stack: contextlib.AsyncExitStack
) -> tuple[ResponseCache | None, DataVersionListener | None]:
    """The cache and its listener for the lifespan, or neither when FIR_CACHE=0."""
    if not settings.cache_enabled:
        return None, None
    cache = ResponseCache(settings.cache_max_entries, settings.cache_max_bytes)
    listener = DataVersionListener(url, cache)
    await listener.start()
    stack.push_async_callback(listener.aclose)
    return cache, listener
