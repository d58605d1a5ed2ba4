"""The one LISTEN connection of a process: the only reconnect policy, fanned out to every channel's handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from loaders.data_version import connect_listener

log = logging.getLogger("fir.notifier")

CONNECTION_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

OnNotify = Callable[[str], None]
OnSync = Callable[[asyncpg.Connection], Awaitable[None]]


class ConnectionLost(Exception):
    pass


class Notifier:
    """One dedicated connection LISTENing on every registered channel, reconnected with one backoff.

    Handlers register before `start()`: `listen(channel, on_notify)` for notifications,
    `on_sync(hook)` for what must run after every (re)connection once LISTEN took effect (so a write
    that committed while disconnected is not missed) and again every `check_interval` seconds (a
    liveness probe and a safety net), `on_lost(hook)` for the moment the connection is known lost.
    A hook that raises a connection error counts as a lost connection. Notifications sent while
    disconnected are lost: PostgreSQL keeps none, which is why `on_sync` exists.

    A connection can also go silent without closing (a firewall dropping an idle flow, a half-open
    failover): the probe then hangs. So each probe has `probe_timeout` seconds, and the notifier is
    not `healthy` once a probe is overdue: the cache then reads the version on every request (the
    pool's own connections are unaffected) until a new session has synced. A write elsewhere is so
    noticed within about `check_interval + probe_timeout` seconds, not the 40 it took.
    """

    def __init__(
        self,
        url: str,
        *,
        check_interval: float = 2.0,
        probe_timeout: float = 2.0,
        min_backoff: float = 0.1,
        max_backoff: float = 1.0,
    ) -> None:
        self.url = url
        self.check_interval = check_interval
        self.probe_timeout = probe_timeout
        self._synced_at = 0.0  # time.monotonic() of the last sync that completed
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.connection: asyncpg.Connection | None = None
        self.connections = 0  # how many sessions were established: tests watch reconnection with it
        self._channels: dict[str, list[OnNotify]] = {}
        self._sync_hooks: list[OnSync] = []
        self._lost_hooks: list[Callable[[], None]] = []
        self._listening = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._delay = min_backoff

    def listen(self, channel: str, on_notify: OnNotify) -> None:
        self._channels.setdefault(channel, []).append(on_notify)

    def on_sync(self, hook: OnSync) -> None:
        self._sync_hooks.append(hook)

    def on_lost(self, hook: Callable[[], None]) -> None:
        self._lost_hooks.append(hook)

    @property
    def healthy(self) -> bool:
        """Listening on every channel, and every sync hook ran since the connection was made."""
        conn = self.connection
        if not self._listening.is_set() or conn is None or conn.is_closed():
            return False
        overdue = time.monotonic() - self._synced_at > self.check_interval + self.probe_timeout
        return not overdue

    async def start(self, wait: float = 5.0) -> None:
        """Start the session loop; wait briefly for the first one so the first requests find it ready."""
        self._task = asyncio.create_task(self._run(), name="fir-notifier")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._listening.wait()

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
            except (*CONNECTION_ERRORS, ConnectionLost) as error:
                log.warning("notifier disconnected (%s); reconnecting in %.1fs", error, self._delay)
            except Exception:  # whatever broke the session, the supervisor's job is to start another
                log.exception("notifier session failed; reconnecting in %.1fs", self._delay)
            await self._drop()
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, self.max_backoff)

    async def _session(self) -> None:
        conn = await connect_listener(self.url)
        self.connection = conn
        self._lost.clear()
        conn.add_termination_listener(self._on_terminated)
        for channel in self._channels:
            await conn.add_listener(channel, self._dispatch)
        await self._sync(conn)  # after LISTEN: nothing committed since can slip through unseen
        self._listening.set()
        self.connections += 1
        if self.connections > 1:
            log.info("notifier reconnected")
        self._delay = self.min_backoff  # a good session earns a quick first retry after it ends
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_interval):
                    await self._lost.wait()
            if self._lost.is_set() or conn.is_closed():
                raise ConnectionLost("connection closed")
            await self._sync(conn)

    async def _sync(self, conn: asyncpg.Connection) -> None:
        """Every hook, within probe_timeout together; a probe that times out ends the session."""
        async with asyncio.timeout(self.probe_timeout):
            for hook in self._sync_hooks:
                await hook(conn)
        self._synced_at = time.monotonic()

    def _dispatch(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        for handler in self._channels.get(channel, ()):
            try:
                handler(payload)
            except Exception:  # one handler's bug must not silence the others
                log.exception("notification handler for %s failed", channel)

    def _on_terminated(self, conn: Any) -> None:
        self._mark_lost()
        self._lost.set()

    def _mark_lost(self) -> None:
        if self._listening.is_set():
            self._listening.clear()
            for hook in self._lost_hooks:
                hook()

    async def _drop(self) -> None:
        self._mark_lost()
        conn, self.connection = self.connection, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(*CONNECTION_ERRORS):
                await asyncio.wait_for(conn.close(), 2)
            if not conn.is_closed():
                conn.terminate()
