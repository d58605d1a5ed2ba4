"""SQL of streaming replication: where a replica's replay stands, and where a commit left the primary's WAL."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def parse_lsn(text: str) -> int:
    """PostgreSQL's `pg_lsn` text form (`16/B374D848`: two hex halves) as one number; ValueError if malformed.

    Exactly two runs of 1 to 8 hex digits: int(x, 16) alone would take `-1`, `+a`, `0x1` and `1_0`.
    """
    found = _LSN.fullmatch(text.strip(" \t"))
    if found is None:
        raise ValueError(f"not a WAL position: {text[:40]!r}")
    return (int(found[1], 16) << 32) | int(found[2], 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    """One look at a replica: whether it is still a standby, the WAL it has replayed, its data version."""

    in_recovery: bool
    replay_lsn: int | None  # None: a server that is not replaying (not a standby)
    data_version: int


@dataclass(frozen=True, slots=True)
class WriteMark:
    """Where a committed write left the primary: its WAL position and the data version it made."""

    lsn: int
    data_version: int


class ReadRouting(Protocol):
    """Where the statements of one request that are outside a transaction read (gateway/replicas.py)."""

    async def pool(self) -> asyncpg.Pool: ...

    def failed(self, pool: asyncpg.Pool) -> None: ...

    def lost(self, pool: asyncpg.Pool) -> asyncio.Future[None] | None:
        """Done once `pool`'s replica is found down: a read in flight on it gives up (None: the primary)."""


_STATUS = """
select pg_is_in_recovery() as in_recovery, pg_last_wal_replay_lsn()::text as replay_lsn,
       (select version from data_version) as data_version
"""


async def replica_status(pool: asyncpg.Pool) -> ReplicaStatus:
    row = await pool.fetchrow(_STATUS)
    assert row is not None
    replay = row["replay_lsn"]
    return ReplicaStatus(
        bool(row["in_recovery"]), parse_lsn(replay) if replay else None, int(row["data_version"])
    )


async def replay_lsn(pool: asyncpg.Pool) -> int | None:
    replay = await pool.fetchval("select pg_last_wal_replay_lsn()::text")
    return parse_lsn(replay) if replay else None


async def primary_position(pool: asyncpg.Pool) -> WriteMark:
    """Where the primary's WAL and data version stand now."""
    return await write_mark(pool)


async def write_mark(conn: Any) -> WriteMark:
    """Read after commit, on the committing connection: the WAL position covers the commit record."""
    row = await conn.fetchrow(
        "select pg_current_wal_lsn()::text as lsn, (select version from data_version) as v"
    )
    return WriteMark(parse_lsn(row["lsn"]), int(row["v"]))
