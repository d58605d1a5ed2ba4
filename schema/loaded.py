"""A loader's answer converted at once when the request already holds it, else an awaitable of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from loaders.batching import NOT_LOADED, DbLoader

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


def loaded(loader: DbLoader[K, V], key: K, convert: Callable[[V], T]) -> T | Awaitable[T]:
    """`convert(row)` now when `key` is loaded or primed (a device query prefetches what it selects),
    so a list of such fields completes without a task each; otherwise the awaitable that loads it."""
    value = loader.ready(key)
    if value is NOT_LOADED:
        return _later(loader.load(key), convert)
    return convert(value)


async def _later(loading: Awaitable[Any], convert: Callable[[Any], T]) -> T:
    return convert(await loading)
