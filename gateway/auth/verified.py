"""Recently verified tokens: a portal sends the same token many times a second; verify it once a minute."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from resolvers.principal import Principal


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
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl
        self._leeway = leeway
        self._clock = clock

    def get(self, token: str) -> Principal | None:
        found = self._entries.get(token)
        if found is None:
            return None
        principal, until = found
        if self._clock() >= until:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return principal

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
        self._entries.move_to_end(token)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
