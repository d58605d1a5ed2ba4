"""The one door to PostgreSQL: a pool wrapper that every loader uses, and that counts statements."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog"
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool connections carry no session state worth a reset round trip on every release.

    asyncpg still rolls back an open transaction before calling this. Nothing here takes session
    advisory locks, sets session variables, LISTENs or holds cursors outside a transaction on a
    pooled connection (listeners and migrations use dedicated connections), so the default reset
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) would only double the round
    trips of a short query.
    """


# SQLSTATEs of a server that is down, restarting or refusing connections: class 08 (connection
# exception) and 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now: starting up or
# in recovery).
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03")


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) means the database cannot be reached right now.

    A timeout is not counted: a slow statement is not an outage.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, TimeoutError):
            return True  # refused, reset, socket file gone
        if isinstance(current, asyncpg.PostgresConnectionError):
            return True
        if isinstance(current, asyncpg.PostgresError) and current.sqlstate in _UNAVAILABLE_STATES:
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        if isinstance(current, asyncpg.InternalClientError) and "another operation" in str(current):
            return True  # a connection left mid-protocol by a server that went away under it
        current = current.__cause__ or current.__context__
    return False


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=60,
    )
    assert pool is not None
    return pool


async def close_pool(pool: asyncpg.Pool, grace: float = 5.0) -> None:
    """Close gracefully, but bounded: a connection left broken by a lost server must not hang shutdown."""
    try:
        await asyncio.wait_for(pool.close(), grace)
    except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        pool.terminate()


@dataclass
class StatementLog:
    """Statements issued on behalf of one request: the N+1 guard in tests reads it."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


class Db:
    """Read statements go to the pool; writes run inside `transaction()` on one connection."""

    def __init__(self, pool: asyncpg.Pool, log: StatementLog | None = None) -> None:
        self.pool = pool
        self.log = log if log is not None else StatementLog()
        self._conn: asyncpg.Connection | None = None

    def _note(self, sql: str) -> None:
        self.log.statements.append(sql)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self._note(sql)
        if self._conn is not None:
            return list(await self._conn.fetch(sql, *args))
        return list(await self.pool.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self._note(sql)
        if self._conn is not None:
            return await self._conn.fetchrow(sql, *args)
        return await self.pool.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self._note(sql)
        if self._conn is not None:
            return await self._conn.fetchval(sql, *args)
        return await self.pool.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        self._note(sql)
        if self._conn is not None:
            return str(await self._conn.execute(sql, *args))
        return str(await self.pool.execute(sql, *args))

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        self._note(sql)
        if self._conn is not None:
            await self._conn.executemany(sql, args)
        else:
            await self.pool.executemany(sql, args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Db]:
        """A Db bound to one connection inside one transaction; nested calls reuse it."""
        if self._conn is not None:
            async with self._conn.transaction():
                yield self
            return
        async with self.pool.acquire() as conn, conn.transaction():
            bound = Db(self.pool, self.log)
            bound._conn = conn
            yield bound
