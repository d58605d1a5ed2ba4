"""Recently verified tokens: a portal sends the same token many times a second; verify it once a minute."""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TLRUCache

from resolvers.principal import Principal

_Entry = tuple[Principal, float]


def _until(_token: str, entry: _Entry, _now: float) -> float:
    return entry[1]


class VerifiedTokens:
    """A bounded LRU of token -> Principal, each entry good until the token expires or `ttl` passes.

    The TTL bounds how long a token verified with a key the issuer has since withdrawn keeps working.
    """

    def __init__(
        self,
        *,
        max_entries: int = 4096,
        ttl: float = 60.0,
        leeway: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._entries: TLRUCache[str, _Entry] = TLRUCache(max(max_entries, 1), _until, timer=clock)
        self._max = max_entries
        self._ttl = ttl
        self._leeway = leeway
        self._clock = clock

    def get(self, token: str) -> Principal | None:
        found = self._entries.get(token)
        return None if found is None else found[0]

    def put(self, token: str, principal: Principal) -> None:
        if self._max <= 0:
            return
        now = self._clock()
        until = now + self._ttl
        exp = principal.claims.get("exp")
        if isinstance(exp, int | float):
            until = min(until, exp + self._leeway)
        if until <= now:
            return
        self._entries[token] = (principal, until)
