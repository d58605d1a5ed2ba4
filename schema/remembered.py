"""Facts computed once from an object (a parsed document), remembered for as long as it lives."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class Remembered(Generic[V]):
    """Keyed by the object's identity (never its equality: a document's deep hash costs more than the
    fact) and one extra hashable (an operation name); an entry goes when its object is collected, so
    what is remembered never keeps a document alive or outlives it."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[weakref.ref[Any], dict[Hashable, V]]] = {}

    def get(self, owner: Any, extra: Hashable, compute: Callable[..., V], *args: Any) -> V:
        """The fact for `owner` and `extra`, `compute(*args)` the first time (no closure per call: this
        sits on every request's path)."""
        entry = self._by_id.get(id(owner))
        if entry is not None and entry[0]() is owner:
            values = entry[1]
            if extra in values:
                return values[extra]
        else:
            values = {}
            self._by_id[id(owner)] = (weakref.ref(owner, functools.partial(self._forget, id(owner))), values)
        found = values[extra] = compute(*args)
        return found

    def __len__(self) -> int:
        return len(self._by_id)

    def _forget(self, key: int, ref: weakref.ref[Any]) -> None:
        entry = self._by_id.get(key)
        if entry is not None and entry[0] is ref:  # not a newer object that took the same id
            del self._by_id[key]
