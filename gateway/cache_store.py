"""The response cache's store: an LRU of answers bounded by entries and bytes, cleared by data version."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

# A document's bytes are counted with its entry; this covers the dict slot, tuple and entry objects.
_ENTRY_OVERHEAD = 200
# A larger response would evict a sixteenth of the cache at once for one caller's benefit.
OVERSIZE_FRACTION = 16


class CacheKey(NamedTuple):
    document: str
    operation_name: str | None
    variables: bytes
    visibility: str

    @property
    def size(self) -> int:
        return (
            len(self.document) + len(self.operation_name or "") + len(self.variables) + len(self.visibility)
        )


@dataclass(frozen=True)
class Entry:
    body: bytes
    version: int | None
    size: int


class ResponseCache:
    """An LRU bounded by entries and bytes, holding only answers computed at the current data version.

    `generation` changes whenever the cache is cleared: a response is stored only if the
    generation it was computed under is still current, so an answer that raced a write is dropped.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.version: int | None = None
        self.generation = 0
        self.nbytes = 0
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry.version != self.version:
            return None
        self._entries.move_to_end(key)
        return entry.body

    def fits(self, key: CacheKey, body_size: int) -> bool:
        return body_size + key.size + _ENTRY_OVERHEAD <= self.max_bytes // OVERSIZE_FRACTION

    def put(self, key: CacheKey, body: bytes, generation: int) -> bool:
        """Store unless a clear happened since `generation` was read, or the entry is oversize."""
        if generation != self.generation or not self.fits(key, len(body)):
            return False
        size = len(body) + key.size + _ENTRY_OVERHEAD
        self._discard(key)
        self._entries[key] = Entry(body, self.version, size)
        self.nbytes += size
        self._evict()
        return True

    def advance(self, version: int) -> None:
        """A notified version: versions only grow, so an older one arrived late and changes nothing."""
        if self.version is None or version > self.version:
            self._clear(version)

    def reset(self, version: int) -> None:
        """A version read from the database: any difference (even a restored, older one) clears."""
        if version != self.version:
            self._clear(version)

    def invalidate(self) -> None:
        self._clear(self.version)

    def _clear(self, version: int | None) -> None:
        self._entries.clear()
        self.nbytes = 0
        self.version = version
        self.generation += 1

    def _discard(self, key: CacheKey) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.nbytes -= old.size

    def _evict(self) -> None:
        while len(self._entries) > self.max_entries or self.nbytes > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self.nbytes -= old.size
