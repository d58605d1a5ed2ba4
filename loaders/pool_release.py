"""Handing a pooled connection back at once, when there is nothing to undo: no task, no loop turn.

asyncpg's `Pool.release` always runs its holder's release under `asyncio.shield`, so that a cancelled
caller still returns the connection: that is a new task, and a turn of the event loop, for every
statement, even when the release has nothing to await (about 15 us of a lineage request's CPU). It
awaits only to roll back a transaction left open, to wait for a cancellation in flight, to close a
connection that is spent (max_queries), expired or closed, and to run the pool's `reset`. When none of
those applies, and the pool's reset is the one our pools use (`db._keep_session`, which does nothing),
what is left is synchronous: `release_now` does it, step for step as asyncpg 0.32's
`PoolConnectionHolder.release` would, and answers False whenever any of it does not hold (a pool made
elsewhere, another asyncpg whose internals differ), leaving the release to `Pool.release`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy


def release_now(pool: asyncpg.Pool, proxy: Any, session_reset: Callable[..., Any]) -> bool:
    """Return `proxy`'s connection to `pool` now, as `Pool.release` would have; False: nothing was done
    (the caller then awaits `pool.release(proxy)`)."""
    try:
        return _release_now(pool, proxy, session_reset)
    except AttributeError:  # asyncpg's internals are not those this was written against
        return False


def _release_now(pool: asyncpg.Pool, proxy: Any, session_reset: Callable[..., Any]) -> bool:
    if type(proxy) is not PoolConnectionProxy or pool._reset is not session_reset:
        return False
    if not pool._initialized or pool._closed:
        return False  # Pool.release refuses it, with its own message
    holder, con = proxy._holder, proxy._con
    if holder._pool is not pool or con is None or holder._in_use is None or con.is_closed():
        return False
    protocol = con._protocol
    if (
        protocol.queries_count >= holder._max_queries
        or holder._generation != pool._generation
        or protocol._is_cancelling()
        or protocol.is_in_transaction()
        or con._top_xact is not None
    ):
        return False
    # Pool.release
    con._on_release()
    # PoolConnectionHolder.release, then Connection._reset: what is left when none of the above holds
    holder._timeout = None
    con._listeners.clear()
    con._log_listeners.clear()
    holder._release()
    holder._setup_inactive_callback()
    return True
