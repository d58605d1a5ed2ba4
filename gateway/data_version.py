"""The response cache's freshness: the notifier's data-version channel clears it on every write."""

from __future__ import annotations

import logging

import asyncpg

from gateway.cache_store import ResponseCache
from gateway.notifier import Notifier
from gateway.settings import Settings
from loaders.data_version import CHANNEL, current_version

log = logging.getLogger("fir.cache")


class DataVersionListener:
    """Keeps `cache.version` current while the notifier listens; `healthy` tells the cache when it cannot.

    After every (re)connection the committed version is read again once LISTEN took effect, so a
    write that committed while disconnected clears the cache even though its notification is lost.
    The same read repeats at the notifier's check interval. While not healthy, the cache reads the
    version on every request instead (gateway.cache.current_generation).
    """

    def __init__(self, notifier: Notifier, cache: ResponseCache) -> None:
        self.notifier = notifier
        self.cache = cache
        self._synced = False
        notifier.listen(CHANNEL, self._on_notify)
        notifier.on_sync(self._sync)
        notifier.on_lost(self._on_lost)

    @property
    def healthy(self) -> bool:
        return self._synced and self.notifier.healthy

    async def _sync(self, conn: asyncpg.Connection) -> None:
        self.cache.reset(await current_version(conn))
        self._synced = True

    def _on_notify(self, payload: str) -> None:
        try:
            self.cache.advance(int(payload))
        except ValueError:
            log.warning("unexpected %s payload %r: clearing the response cache", CHANNEL, payload)
            self.cache.invalidate()

    def _on_lost(self) -> None:
        self._synced = False


def response_cache(
    settings: Settings, notifier: Notifier
) -> tuple[ResponseCache | None, DataVersionListener | None]:
    """The cache and its listener, registered on the notifier before it starts; neither when FIR_CACHE=0."""
    if not settings.cache_enabled:
        return None, None
    cache = ResponseCache(settings.cache_max_entries, settings.cache_max_bytes)
    return cache, DataVersionListener(notifier, cache)
