"""The one door to PostgreSQL: a pool wrapper that every loader uses, and that counts statements."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import orjson

from loaders.pool_release import release_now
from loaders.replicas import ReadRouting, WriteMark, write_mark


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog"
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool connections carry no session state worth a reset round trip on every release.

    asyncpg still rolls back an open transaction before calling this. Nothing here takes session
    advisory locks, sets session variables (but plan_cache_mode, which `_plan_mode` keeps track of
    per backend: it chooses plans, never results), LISTENs or holds cursors outside a transaction on a
    pooled connection (listeners and migrations use dedicated connections), so the default reset
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) would only double the round
    trips of a short query.
    """


# A batch of at most this many keys is planned once per connection (a generic plan): see `keyed`.
GENERIC_PLAN_MAX_KEYS = 100
# Per pool (by id: asyncpg's Pool takes no weak reference), the backends (by pid) last set to
# force_generic_plan; the others use PostgreSQL's default. A few integers per pool ever opened.
_generic_backends: dict[int, set[int]] = {}


def few_keys(args: tuple[Any, ...]) -> bool:
    """No list argument holds more than GENERIC_PLAN_MAX_KEYS keys."""
    return all(len(a) <= GENERIC_PLAN_MAX_KEYS for a in args if isinstance(a, list))


async def _plan_mode(pool: asyncpg.Pool, conn: Any, generic: bool) -> None:
    """Set the connection's plan_cache_mode when it is not already what this statement wants.

    The mode only chooses between plans: it never changes a result, so a backend (or pool) whose id
    was reused, and whose mode is then misremembered, costs at most plans that are not the best.
    """
    backends = _generic_backends.setdefault(id(pool), set())
    pid = conn.get_server_pid()
    if (pid in backends) == generic:
        return
    # RESET, not `= auto`: back to what the role or database configures, if anything
    await conn.execute("set plan_cache_mode = force_generic_plan" if generic else "reset plan_cache_mode")
    if generic:
        backends.add(pid)
    else:
        backends.discard(pid)


# Per pool (by id), a semaphore of its size that statements pass before they take a connection.
# asyncpg's pool queues its waiters in an asyncio.Queue, which lets a newcomer take a connection just
# handed back before the waiter it woke has run; that waiter then queues again at the back, so under
# load a few requests wait many times the mean (lineage at 64 clients on 10 connections: p50 26 ms,
# p99 827 ms). asyncio's Semaphore is first come, first served (a released permit goes to the first
# waiter, and nobody passes a waiter), and with at most the pool's size past it the pool never queues.
# The pool is kept with its gate, so that its id cannot be reused while the entry stands (close_pool
# removes it); a pool made elsewhere has no gate.
_gates: dict[int, tuple[asyncpg.Pool, asyncio.Semaphore]] = {}


def gate_of(pool: asyncpg.Pool) -> asyncio.Semaphore | None:
    found = _gates.get(id(pool))
    return found[1] if found is not None and found[0] is pool else None


def _gate(pool: asyncpg.Pool) -> contextlib.AbstractAsyncContextManager[Any]:
    gate = gate_of(pool)
    return gate if gate is not None else contextlib.nullcontext()


async def _run(pool: asyncpg.Pool, method: str, sql: str, args: tuple[Any, ...], generic: bool) -> Any:
    """`async with pool.acquire()`, with the connection handed back at once when nothing is left to undo
    (loaders.pool_release); an error, a cancellation among them, leaves it to asyncpg's shielded release."""
    async with _gate(pool):
        conn = await pool.acquire()
        try:
            await _plan_mode(pool, conn, generic)
            result = await getattr(conn, method)(sql, *args)
        except BaseException:
            await pool.release(conn)
            raise
        if not release_now(pool, conn, _keep_session):
            await pool.release(conn)
        return result


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


async def create_pool(
    url: str, *, min_size: int = 2, max_size: int = 10, connect_timeout: float = 60
) -> asyncpg.Pool:
    """`connect_timeout` bounds each connection attempt (a read replica that is down must fail fast)."""
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=60,
        timeout=connect_timeout,
    )
    assert pool is not None
    _gates[id(pool)] = (pool, asyncio.Semaphore(max_size))
    return pool


async def close_pool(pool: asyncpg.Pool, grace: float = 5.0) -> None:
    """Close gracefully, but bounded: a connection left broken by a lost server must not hang shutdown."""
    _gates.pop(id(pool), None)
    _generic_backends.pop(id(pool), None)
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


class WriteMarks:
    """What one request's writes left: whether any committed (the response cache clears only then),
    and, kept when replicas serve reads (`positions`), the newest commit's position, which the
    gateway hands back."""

    def __init__(self, positions: bool = True) -> None:
        self.positions = positions
        self.committed = False
        self.last: WriteMark | None = None


class Db:
    """Read statements go to the pool (or, with `reads`, where it routes them); writes run inside
    `transaction()` on one connection of the primary."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        log: StatementLog | None = None,
        *,
        reads: ReadRouting | None = None,
        marks: WriteMarks | None = None,
    ) -> None:
        self.pool = pool
        self.log = log if log is not None else StatementLog()
        self.reads = reads
        self.marks = marks
        self._conn: asyncpg.Connection | None = None

    def fresh(self) -> Db:
        """The same routing for another request or operation: its own statement log and write marks."""
        marks = WriteMarks(self.marks.positions) if self.marks is not None else None
        return Db(self.pool, reads=self.reads, marks=marks)

    def _note(self, sql: str) -> None:
        self.log.statements.append(sql)

    def use_primary(self) -> None:
        """From now on every statement of this request reads the primary (a mutation, a subscription)."""
        self.reads = None

    async def _read(self, method: str, sql: str, args: tuple[Any, ...], keyed: bool = False) -> Any:
        self._note(sql)
        if self._conn is not None:  # in a transaction: its connection as it is (a SET would roll back)
            return await getattr(self._conn, method)(sql, *args)
        generic = keyed and few_keys(args)
        reads = self.reads
        if reads is None:
            return await _run(self.pool, method, sql, args, generic)
        pool = await reads.pool()
        try:
            return await _unless_lost(reads.lost(pool), _run(pool, method, sql, args, generic))
        except Exception as error:
            if pool is self.pool or not replica_failure(error):
                raise
        reads.failed(pool)  # the replica went away, hung or cancelled us: the primary answers instead
        return await _run(self.pool, method, sql, args, generic)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return list(await self._read("fetch", sql, args))

    async def fetch_keyed(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """A lookup by arrays of keys (a DataLoader's batch), whose best plan does not depend on the keys.

        PostgreSQL re-plans a prepared statement on every execution while it expects a custom plan to
        beat the generic one, and for `unnest($1::text[])` or `= any($1)` it always does: it sizes a
        parameter array it cannot see at 10 keys, and the keys it is given at their number. For a small
        batch that planning costs more than running the statement (0.2-0.3 ms of server CPU each
        time, against 0.05-0.1 ms to run it), so a batch of up to GENERIC_PLAN_MAX_KEYS keys runs in
        force_generic_plan mode: planned once per connection. Larger batches (fleets) keep custom
        plans, which size their joins to the batch and whose planning their work dwarfs.
        """
        return list(await self._read("fetch", sql, args, keyed=True))

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        record: asyncpg.Record | None = await self._read("fetchrow", sql, args)
        return record

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._read("fetchval", sql, args)

    async def execute(self, sql: str, *args: Any) -> str:
        self._note(sql)
        if self._conn is not None:
            return str(await self._conn.execute(sql, *args))
        try:
            return str(await _run(self.pool, "execute", sql, args, generic=False))
        finally:
            self._autocommitted()

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        self._note(sql)
        if self._conn is not None:
            await self._conn.executemany(sql, args)
            return
        try:
            await _run(self.pool, "executemany", sql, (args,), generic=False)
        finally:
            self._autocommitted()

    def _autocommitted(self) -> None:
        """A statement outside a transaction commits on its own, or may have (it failed late)."""
        if self.marks is not None:
            self.marks.committed = True

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Db]:
        """A Db bound to one connection of the primary inside one transaction; nested calls reuse it.

        With `marks`, the WAL position after commit is kept, so the caller can read its own write
        from a replica once the replica has replayed that far.
        """
        if self._conn is not None:
            async with self._conn.transaction():
                yield self
            return
        async with _gate(self.pool), self.pool.acquire() as conn:
            await _plan_mode(self.pool, conn, generic=False)  # writes and their reads: PostgreSQL's choice
            async with conn.transaction():
                bound = Db(self.pool, self.log)
                bound._conn = conn
                yield bound
            if self.marks is not None:
                self.marks.committed = True
                if self.marks.positions:
                    await _mark(self.marks, conn)


async def _mark(marks: WriteMarks, conn: asyncpg.Connection) -> None:
    """A primary lost just after the commit must not turn a committed write into a reported failure: the
    caller then gets no FIR-Read-After token (its next read may come from a replica not yet past it)."""
    try:
        marks.last = await write_mark(conn)
    except Exception as error:
        if not database_unavailable(error):
            raise


T = TypeVar("T")


class ReplicaLost(Exception):
    """The replica a read was waiting on was found down (it stopped answering) before the read ended."""


async def _unless_lost(lost: asyncio.Future[None] | None, read: Coroutine[Any, Any, T]) -> T:
    """`read`, or ReplicaLost as soon as `lost` is done first.

    A replica whose host froze, whose storage stalled or whose network dropped every packet never
    fails a statement: it never answers, and the read waited out the request's deadline (a 504) while
    the primary was fine. The replica's checks mark it down within about a second; the reads on it
    then go to the primary. The abandoned read is cancelled and left to end on its own, whenever the
    replica answers again or its connection dies; nothing awaits it."""
    if lost is None:
        return await read
    task = asyncio.ensure_future(read)
    try:
        await asyncio.wait((task, lost), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        abandon(task)
        raise
    if task.done():
        return task.result()
    abandon(task)
    raise ReplicaLost("the read replica stopped answering")


def abandon(task: asyncio.Future[Any]) -> None:
    """Stop waiting for `task`: cancelled, and left to end on its own (a cancelled statement waits for
    its server to take the cancellation, which a frozen server never does); its outcome is retrieved."""
    task.cancel()
    task.add_done_callback(_retrieved)


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: never "Task exception was never retrieved"


# SQLSTATE 40001 on a standby: a statement cancelled because replay had to remove rows it could see.
_RECOVERY_CONFLICT = "40001"


def replica_failure(error: BaseException) -> bool:
    """A replica read that the primary should answer instead: the replica is gone, or cancelled us."""
    if isinstance(error, ReplicaLost):
        return True
    if isinstance(error, asyncpg.PostgresError) and error.sqlstate == _RECOVERY_CONFLICT:
        return True
    return database_unavailable(error)
