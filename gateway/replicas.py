"""Read replicas: which streaming replica answers a query, how far each lags, and read-your-writes."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import re
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from prometheus_client import Counter, Gauge

from gateway.metrics import REGISTRY
from gateway.settings import Settings
from loaders.db import abandon, close_pool, create_pool
from loaders.replicas import (
    WriteMark,
    format_lsn,
    parse_lsn,
    primary_position,
    replay_lsn,
    replica_status,
)

log = logging.getLogger("fir.replicas")
T = TypeVar("T")

HEADER = "FIR-Read-After"
UP, LAGGING, DOWN, NOT_STANDBY = "up", "lagging", "down", "not_standby"
_PROBE_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

REPLICA_UP = Gauge(
    "fir_replica_up", "1 while the read replica serves queries (reachable, a standby, within the lag bounds)",
    ["replica"], registry=REGISTRY, multiprocess_mode="livemin",  # with workers: down if any live worker sees it down
)  # fmt: skip
REPLICA_LAG_BYTES = Gauge(
    "fir_replica_lag_bytes",
    "WAL the replica has not replayed yet, at the last check",
    ["replica"],
    registry=REGISTRY,
    multiprocess_mode="livemax",
)
REPLICA_LAG_SECONDS = Gauge(
    "fir_replica_lag_seconds", "How long ago the primary passed the replica's replay position", ["replica"],
    registry=REGISTRY, multiprocess_mode="livemax",
)  # fmt: skip
READS = Counter(
    "fir_read_requests_total", "GraphQL requests by where their reads went", ["target"], registry=REGISTRY
)


@dataclass(frozen=True, slots=True)
class ReadAfter:
    """The token a client echoes after a write: read nothing older than this WAL position (and data version)."""

    lsn: int
    data_version: int | None = None


def format_read_after(mark: WriteMark) -> str:
    return f"{format_lsn(mark.lsn)}; version={mark.data_version}"


_VERSION = re.compile(r"[0-9]{1,18}")  # a data version is a bigint


def parse_read_after(value: str) -> ReadAfter:
    """`16/B374D848; version=42` (the version optional); ValueError when malformed."""
    lsn, semicolon, rest = value.partition(";")
    if not semicolon:
        return ReadAfter(parse_lsn(lsn))
    name, equals, version = (part.strip(" \t") for part in rest.partition("="))
    if name != "version" or not equals or _VERSION.fullmatch(version) is None:
        raise ValueError("expected '<lsn>; version=<n>'")
    return ReadAfter(parse_lsn(lsn), int(version))


class Replica:
    """One read URL: its pool, and what the last check saw."""

    def __init__(self, name: str, pool: asyncpg.Pool, probes: asyncpg.Pool | None = None) -> None:
        self.name = name
        self.pool = pool
        # the checks' own connections: a read pool busy with long reads is not a replica that is down
        self.probes = probes if probes is not None else pool
        self.state = DOWN
        self.replay_lsn: int | None = None
        self.data_version = -1
        self.lag_bytes = 0
        self.lag_seconds = 0.0
        # made when the replica is found up, done when its checks find it not answering: the reads in
        # flight on it then give up and go to the primary (loaders.db, _unless_lost)
        self.lost: asyncio.Future[None] | None = None

    @property
    def in_use(self) -> int:
        busy: int = self.pool.get_size() - self.pool.get_idle_size()
        return busy

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": self.state,
            "lag_bytes": self.lag_bytes,
            "lag_ms": round(self.lag_seconds * 1000),
            "replay_lsn": format_lsn(self.replay_lsn) if self.replay_lsn is not None else None,
        }


class LagClock:
    """When the primary's WAL passed a position: samples of the primary's position over the last `window`.

    A replica's lag in time is how long ago the primary was first seen past the replica's replay
    position; measured on this gateway's clock only, so the servers' clocks need not agree, and an idle
    primary (no new WAL) never makes a caught-up replica look late.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self.samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, now: float, lsn: int) -> None:
        self.samples.append((now, lsn))
        while len(self.samples) > 1 and now - self.samples[1][0] > self.window:
            self.samples.popleft()

    @property
    def latest(self) -> int | None:
        return self.samples[-1][1] if self.samples else None

    def lag(self, now: float, replayed: int) -> float:
        for seen, lsn in self.samples:
            if lsn > replayed:
                return now - seen
        return 0.0


class ReplicaSet:
    """The read replicas of one process: checked every `check_interval`, chosen per request.

    A replica serves while it answers, is a standby, and lags at most `max_lag_bytes` and
    `max_lag_seconds`; otherwise it is skipped until a later check finds it healthy again.
    """

    def __init__(self, primary: asyncpg.Pool, replicas: list[Replica], settings: Settings) -> None:
        self.primary = primary
        self.replicas = replicas
        self.wait = settings.replica_wait_ms / 1000
        self.max_lag_bytes = settings.replica_max_lag_bytes
        self.max_lag_seconds = settings.replica_max_lag_ms / 1000
        self.check_interval = max(settings.replica_check_interval, 0.05)  # never a busy loop
        self.clock = LagClock(max(self.max_lag_seconds * 2, 1.0))
        self.primary_version: int | None = None  # the primary's data version at the last look
        self._asked = 0  # looks at the primary's position started by bound()
        self._asking = asyncio.Lock()
        self._looked = False  # whether the last of those saw the primary
        self._turn = itertools.count()
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._poller: asyncio.Task[None] | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._probes: dict[tuple[str, str], asyncio.Future[Any]] = {}  # (replica, kind): the last probe

    @classmethod
    async def open(cls, primary: asyncpg.Pool, settings: Settings) -> ReplicaSet:
        """Pools open lazily (min size 0): a replica that is down at start-up is only skipped."""
        replicas = [
            Replica(
                f"replica{i}",
                await create_pool(str(url), min_size=0, max_size=settings.pool_max, connect_timeout=2),
                await create_pool(str(url), min_size=0, max_size=2, connect_timeout=2),
            )
            for i, url in enumerate(settings.read_urls)
        ]
        found = cls(primary, replicas, settings)
        await found.check()
        found._monitor = asyncio.create_task(found._watch(), name="fir-replica-monitor")
        return found

    async def aclose(self) -> None:
        for task in (self._monitor, self._poller):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        pools = {id(p): p for r in self.replicas for p in (r.pool, r.probes)}
        await asyncio.gather(*(close_pool(p, grace=2) for p in pools.values()))

    # --- choosing ---------------------------------------------------------------------------------

    async def bound(self, after: ReadAfter) -> ReadAfter:
        """`after`, clamped to where the primary stands: no replica or cache waits for a forged future.

        A token past what the last check saw (a write since, or a forgery) costs one look at the
        primary, shared by the requests that arrive while another look is under way.
        """
        if not self._known(after) and not await self._look_at_primary():
            return after  # the primary did not answer: clamping to an older look could hide a real write
        latest, version = self.clock.latest, self.primary_version
        if latest is None:
            return after
        bounded = None if after.data_version is None or version is None else min(after.data_version, version)
        return ReadAfter(min(after.lsn, latest), bounded)

    def _known(self, after: ReadAfter) -> bool:
        latest, version = self.clock.latest, self.primary_version
        return (latest is not None and after.lsn <= latest) and (
            after.data_version is None or (version is not None and after.data_version <= version)
        )

    async def _look_at_primary(self) -> bool:
        """One look at a time; a caller reuses only a look that started after it arrived (so after its
        write). Whether that look saw the primary's position."""
        ticket = self._asked
        async with self._asking:
            if self._asked > ticket:
                return self._looked
            self._asked += 1
            self._looked = await self._probe_primary()
            return self._looked

    async def _probe_primary(self) -> bool:
        with contextlib.suppress(*_PROBE_ERRORS):  # the primary's own outage is the pool's to report
            async with asyncio.timeout(max(self.check_interval, 1.0)):
                mark = await primary_position(self.primary)
            self.clock.add(time.monotonic(), max(mark.lsn, self.clock.latest or 0))
            self.primary_version = max(mark.data_version, self.primary_version or 0)
            return True
        return False

    def choose(self, after: int | None = None) -> Replica | None:
        """The least busy healthy replica that has replayed `after`; ties taken in turn."""
        ready = [r for r in self.replicas if r.state == UP and (after is None or _replayed(r, after))]
        if not ready:
            return None
        start = next(self._turn) % len(ready)
        turned = ready[start:] + ready[:start]
        return min(turned, key=lambda r: r.in_use)

    async def wait_for(self, after: int) -> Replica | None:
        """A replica that has replayed `after`, waiting at most `wait`; None: read the primary."""
        found = self.choose(after)
        if found is not None or self.wait <= 0 or not any(r.state == UP for r in self.replicas):
            return found
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (after, waiter)
        self._waiters.append(entry)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="fir-replica-replay-poll")
        try:
            async with asyncio.timeout(self.wait):
                await waiter
        except TimeoutError:
            return None
        finally:
            self._waiters.remove(entry)
        return self.choose(after)

    def mark_down(self, replica: Replica, reason: str, *, unanswered: bool = False) -> None:
        """No new read goes to `replica`; `unanswered` (its checks got no answer in time, or could not
        reach it), the reads in flight on it give up too. One query that failed on it (a recovery
        conflict, a dropped connection) says nothing of the others, which end as they will."""
        if replica.state != DOWN:
            log.warning("read replica %s is down (%s): reads go elsewhere", replica.name, reason[:200])
        replica.state = DOWN
        if unanswered and replica.lost is not None and not replica.lost.done():
            replica.lost.set_result(None)
        REPLICA_UP.labels(replica.name).set(0)

    # --- checking ---------------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                await self.check()
            except Exception:  # the monitor must outlive any one failure, or no replica comes back
                log.exception("checking the read replicas failed; checking on")

    async def check(self) -> None:
        bound = max(self.check_interval, 1.0)
        await self._probe_primary()
        await asyncio.gather(*(self._check(r, bound) for r in self.replicas))

    async def _ask(self, replica: Replica, kind: str, work: Coroutine[Any, Any, T], bound: float) -> T | None:
        """`work`'s answer within `bound`, else None and the replica marked down, unanswered.

        A probe past its bound is abandoned, not awaited: its cancellation waits for the replica to
        take it, which a frozen one never does (awaited, the check hung with it, and the replica was
        never marked down). Until it ends the replica is not asked again, so a long freeze leaves one
        probe of each kind waiting, not one per check."""
        key = (replica.name, kind)
        pending = self._probes.get(key)
        if pending is not None and not pending.done():
            work.close()
            self.mark_down(replica, "its last check is still unanswered", unanswered=True)
            return None
        task: asyncio.Future[T] = asyncio.ensure_future(work)
        self._probes[key] = task
        await asyncio.wait((task,), timeout=bound)
        if not task.done():
            abandon(task)
            self.mark_down(replica, f"no answer within {bound:g} s", unanswered=True)
            return None
        try:
            return task.result()
        except _PROBE_ERRORS as error:
            self.mark_down(replica, f"{type(error).__name__}: {error}", unanswered=True)
            return None

    async def _check(self, replica: Replica, bound: float) -> None:
        status = await self._ask(replica, "status", replica_status(replica.probes), bound)
        if status is None:
            return
        replica.replay_lsn, replica.data_version = status.replay_lsn, status.data_version
        if not status.in_recovery or status.replay_lsn is None:
            self._settle(replica, NOT_STANDBY)
            return
        latest = self.clock.latest
        replica.lag_bytes = max(0, latest - status.replay_lsn) if latest is not None else 0
        replica.lag_seconds = self.clock.lag(time.monotonic(), status.replay_lsn)
        late = replica.lag_bytes > self.max_lag_bytes or replica.lag_seconds > self.max_lag_seconds
        self._settle(replica, LAGGING if late else UP)

    def _settle(self, replica: Replica, state: str) -> None:
        if state != replica.state:
            log.warning("read replica %s: %s -> %s", replica.name, replica.state, state)
        replica.state = state
        if state == UP and (replica.lost is None or replica.lost.done()):
            replica.lost = asyncio.get_running_loop().create_future()
        REPLICA_UP.labels(replica.name).set(1 if state == UP else 0)
        REPLICA_LAG_BYTES.labels(replica.name).set(replica.lag_bytes)
        REPLICA_LAG_SECONDS.labels(replica.name).set(replica.lag_seconds)

    async def _poll(self) -> None:
        """While requests wait for a WAL position, ask the healthy replicas where replay stands, often."""
        while self._waiters:
            healthy = [r for r in self.replicas if r.state == UP]
            try:
                await asyncio.gather(*(self._poll_one(r) for r in healthy))
            except Exception:  # the waiters time out and read the primary; the next wait starts a poller
                log.exception("polling the read replicas' replay failed")
                return
            for after, waiter in self._waiters:
                if not waiter.done() and (
                    self.choose(after) is not None or not any(r.state == UP for r in self.replicas)
                ):
                    waiter.set_result(None)
            await asyncio.sleep(0.005)

    async def _poll_one(self, replica: Replica) -> None:
        replayed = await self._ask(replica, "replay", replay_lsn(replica.probes), max(self.wait, 0.5))
        if replayed is not None and (replica.replay_lsn is None or replayed > replica.replay_lsn):
            replica.replay_lsn = replayed

    def describe(self) -> list[dict[str, object]]:
        return [r.describe() for r in self.replicas]


def _replayed(replica: Replica, after: int) -> bool:
    return replica.replay_lsn is not None and replica.replay_lsn >= after


class ReadChoice:
    """Where one request's reads go, decided at its first read (a cache hit or a mutation never asks).

    Without a token: the least busy healthy replica, else the primary. With one: a replica that has
    replayed it, waiting up to FIR_REPLICA_WAIT_MS, else the primary.
    """

    def __init__(self, replicas: ReplicaSet, after: ReadAfter | None) -> None:
        self.replicas = replicas
        self.after = after
        self.replica: Replica | None = None
        self.version_floor: int | None = None  # the data version every read of this request is at least at
        self._pool: asyncpg.Pool | None = None
        self._choosing: asyncio.Future[Replica | None] | None = None

    async def pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        if self.after is None:
            return self._settle(self.replicas.choose())
        if self._choosing is None:
            self._choosing = asyncio.ensure_future(self.replicas.wait_for(self.after.lsn))
        found = await self._choosing
        return self._pool or self._settle(found)

    def _settle(self, replica: Replica | None) -> asyncpg.Pool:
        self.replica = replica
        if replica is None:
            self._pool = self.replicas.primary
            READS.labels("primary").inc()
        else:
            self._pool, self.version_floor = replica.pool, replica.data_version
            READS.labels(replica.name).inc()
        return self._pool

    def lost(self, pool: asyncpg.Pool) -> asyncio.Future[None] | None:
        replica = self.replica
        return replica.lost if replica is not None and pool is replica.pool else None

    def failed(self, pool: asyncpg.Pool) -> None:
        """A replica failed mid-request: it is marked down, and the rest of the request reads the primary."""
        if self.replica is not None and pool is self.replica.pool:
            self.replicas.mark_down(self.replica, "a query on it failed")
        self._pool = self.replicas.primary

    def stale_for(self, version: int | None) -> bool:
        """Whether an answer read here may predate data version `version` (the cache's; None: not
        known): then it must not be cached. An answer read on the primary never is."""
        if self.version_floor is None:
            return False
        return version is None or self.version_floor < version
