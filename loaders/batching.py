"""The one constructor every batch loader shares: a DataLoader over the request's `Db`."""

from __future__ import annotations

from asyncio import Future
from typing import Any, TypeVar

from aiodataloader import DataLoader, Loader, dispatch_queue

from loaders.db import Db

K = TypeVar("K")
V = TypeVar("V")


class DbLoader(DataLoader[K, V]):
    """Built per request (aiodataloader binds the running loop); subclasses write `batch_load_fn`."""

    def __init__(self, db: Db) -> None:
        self.futures: dict[Any, Future[V]] = {}  # the loader's cache (cache_map): read by `ready`
        super().__init__(cache_map=self.futures)
        self.db = db

    def ready(self, key: K) -> Future[V] | None:
        """The key's answer when it is already loaded or primed (a done future), else None: a
        resolver then answers at once instead of awaiting a value that is there."""
        found = self.futures.get(key)
        if found is None or not found.done() or found.cancelled() or found.exception() is not None:
            return None
        return found

    def do_resolve_reject(self, key: K, future: Future[V]) -> None:
        """aiodataloader's, with the same batching window and one task fewer per batch: it schedules a
        task that dispatches the queue two loop turns after the first load; two nested call_soon do too."""
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            self.loop.call_soon(self.loop.call_soon, dispatch_queue, self)
