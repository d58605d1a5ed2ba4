"""The DataLoader every per-request loader shares, cheap to make and to prime; `DbLoader` adds the request's `Db`."""

from __future__ import annotations

from asyncio import Future, get_event_loop
from enum import Enum
from typing import Any, Final, Self, TypeVar

from aiodataloader import DataLoader, Loader, dispatch_queue, iscoroutinefunctionorpartial

from loaders.db import Db

K = TypeVar("K")
V = TypeVar("V")


class NotLoaded(Enum):
    """What `ready` answers for a key the request does not hold yet (None is a value: a row not found)."""

    NOT_LOADED = "not loaded"


NOT_LOADED: Final = NotLoaded.NOT_LOADED


class RequestLoader(DataLoader[K, V]):
    """aiodataloader's DataLoader, made for one request at the cost of a few attributes, with primed
    values kept as they are: a device query primes every row it read (CPL entry, model, manufacturer,
    releases, contacts), most of which no field reads, and a future each cost more than the rest.

    Its keys are their own cache keys and it always caches and batches (aiodataloader's defaults);
    max_batch_size is honoured. A subclass writes `batch_load_fn`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """aiodataloader checks this on every construction; a class's function does not change."""
        super().__init_subclass__(**kwargs)
        assert iscoroutinefunctionorpartial(cls.batch_load_fn), f"{cls.__name__}.batch_load_fn must be async"
        if not (cls.cache and cls.batch) or "get_cache_key" in vars(cls):
            raise TypeError(f"{cls.__name__}: a RequestLoader caches and batches by its keys")

    def __init__(self) -> None:  # not DataLoader's: what it checks is checked once per class above
        self.loop = get_event_loop()  # the running loop, as aiodataloader binds it
        self._cache: dict[Any, Future[V]] = {}  # keys asked for (or primed with an error): their futures
        self._queue: list[Loader] = []
        self.primed: dict[Any, V] = {}  # keys primed and not asked for since: their values

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        raise NotImplementedError  # a subclass that forgot it fails its loads rather than hang them

    def load(self, key: K) -> Future[V]:
        """aiodataloader's; a primed key is answered by a done future made now, and cached like any."""
        if key is None:
            raise TypeError(f"The loader.load() function must be called with a value, but got: {key}.")
        future = self._cache.get(key)
        if future is not None:
            return future
        future = self._cache[key] = self.loop.create_future()
        value = self.primed.pop(key, NOT_LOADED)
        if value is NOT_LOADED:
            self.do_resolve_reject(key, future)
        else:
            future.set_result(value)
        return future

    def ready(self, key: K) -> V | NotLoaded:
        """The key's value when it is primed or already loaded, else NOT_LOADED: a resolver then
        answers at once instead of awaiting a value that is there."""
        value = self.primed.get(key, NOT_LOADED)
        if value is not NOT_LOADED:
            return value
        found = self._cache.get(key)
        if found is None or not found.done() or found.cancelled() or found.exception() is not None:
            return NOT_LOADED
        return found.result()

    def prime(self, key: K, value: V) -> Self:
        """aiodataloader's: a key already held keeps its answer; an error is primed as a failed future."""
        if key in self._cache or key in self.primed:
            return self
        if isinstance(value, Exception):
            failed = self._cache[key] = self.loop.create_future()
            failed.set_exception(value)
        else:
            self.primed[key] = value
        return self

    def clear(self, key: K) -> Self:
        self._cache.pop(key, None)
        self.primed.pop(key, None)
        return self

    def clear_all(self) -> Self:
        self._cache.clear()
        self.primed.clear()
        return self

    def do_resolve_reject(self, key: K, future: Future[V]) -> None:
        """aiodataloader's, with the same batching window and one task fewer per batch: it schedules a
        task that dispatches the queue two loop turns after the first load; two nested call_soon do too."""
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            self.loop.call_soon(self.loop.call_soon, dispatch_queue, self)


class DbLoader(RequestLoader[K, V]):
    """Built per request (it binds the running loop); subclasses write `batch_load_fn` over `db`."""

    def __init__(self, db: Db) -> None:
        super().__init__()
        self.db = db
