"""SQL for fleet checks of a file: the job's state and its report's bytes, readable from any replica."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from loaders.db import Db

CHUNK_PAGE = 8  # chunks fetched per statement while a report streams out (8 MiB at 1 MiB a chunk)


@dataclass(frozen=True, slots=True)
class FleetCheckRow:
    id: uuid.UUID
    owner: str
    input_kind: str
    report_kind: str
    stage: str
    rows: int | None
    summary: dict[str, int] | None
    tables: dict[str, list[dict[str, Any]]] | None
    problems: list[dict[str, Any]] | None
    error: str | None
    report_bytes: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime


_COLUMNS = (
    "id, owner, input_kind, report_kind, stage, rows, summary, tables, problems, error, report_bytes,"
    " created_at, updated_at, expires_at"
)


def _row(r: asyncpg.Record) -> FleetCheckRow:
    return FleetCheckRow(*r)  # json columns arrive decoded (the pool's codec)


async def create_check(db: Db, owner: str, input_kind: str, report_kind: str, ttl: int) -> uuid.UUID:
    check_id = uuid.uuid4()
    await db.execute(
        "insert into fleet_checks (id, owner, input_kind, report_kind, expires_at)"
        " values ($1, $2, $3, $4, now() + make_interval(secs => $5))",
        check_id,
        owner,
        input_kind,
        report_kind,
        float(ttl),
    )
    return check_id


# a check done or failed stays so: a replica that carries on after its check was declared failed
# (stale, below) must not turn it done (the CLI stopped at failed), nor overwrite the reason given
_UNFINISHED = "stage not in ('done', 'failed')"


def _updated(status: str) -> bool:
    return status.split()[-1] != "0"


async def set_stage(db: Db, check_id: uuid.UUID, stage: str, rows: int | None) -> bool:
    """False when the check has finished meanwhile (declared failed): nothing changed."""
    done = await db.execute(
        "update fleet_checks set stage = $2, rows = coalesce($3, rows), updated_at = now()"
        f" where id = $1 and {_UNFINISHED}",
        check_id,
        stage,
        rows,
    )
    return _updated(done)


async def touch_check(db: Db, check_id: uuid.UUID) -> None:
    """The job's heartbeat: a check still queued or in one long stage is not taken for stale."""
    await db.execute(f"update fleet_checks set updated_at = now() where id = $1 and {_UNFINISHED}", check_id)


async def finish_check(db: Db, check_id: uuid.UUID, result: dict[str, Any], report_bytes: int) -> bool:
    """False when the check was declared failed meanwhile: it stays failed."""
    done = await db.execute(
        "update fleet_checks set stage = 'done', summary = $2::jsonb, tables = $3::jsonb,"
        f" problems = $4::jsonb, report_bytes = $5, updated_at = now() where id = $1 and {_UNFINISHED}",
        check_id,
        result["summary"],
        result["tables"],
        result["problems"],
        report_bytes,
    )
    return _updated(done)


async def fail_check(db: Db, check_id: uuid.UUID, error: str) -> None:
    await db.execute(
        f"update fleet_checks set stage = 'failed', error = $2, updated_at = now() where id = $1 and {_UNFINISHED}",
        check_id,
        error,
    )


async def fail_stale(db: Db, check_id: uuid.UUID, idle_seconds: float, error: str) -> None:
    """Failed for good if it has not moved for `idle_seconds` (by the database's clock, as updated_at)."""
    await db.execute(
        f"update fleet_checks set stage = 'failed', error = $3, updated_at = now() where id = $1 and {_UNFINISHED}"
        " and updated_at < now() - make_interval(secs => $2)",
        check_id,
        float(idle_seconds),
        error,
    )


async def get_check(db: Db, check_id: uuid.UUID) -> FleetCheckRow | None:
    found = await db.fetchrow(
        f"select {_COLUMNS} from fleet_checks where id = $1 and expires_at > now()", check_id
    )
    return _row(found) if found else None


async def store_chunk(db: Db, check_id: uuid.UUID, seq: int, data: bytes) -> None:
    await db.execute("insert into fleet_check_chunks values ($1, $2, $3)", check_id, seq, data)


async def report_chunks(db: Db, check_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The report's bytes in order, a page of chunks per statement: no connection held while it streams."""
    seq = -1
    while True:
        page = await db.fetch(
            "select seq, data from fleet_check_chunks where check_id = $1 and seq > $2 order by seq limit $3",
            check_id,
            seq,
            CHUNK_PAGE,
        )
        for row in page:
            seq = row["seq"]
            yield bytes(row["data"])
        if len(page) < CHUNK_PAGE:
            return


async def delete_expired(db: Db) -> int:
    """Expired checks go with their chunks (on delete cascade): results are temporary, not history."""
    done = await db.execute("delete from fleet_checks where expires_at <= now()")
    return int(done.split()[-1])
