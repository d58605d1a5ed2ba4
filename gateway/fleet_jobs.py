"""Fleet check jobs: run on the replica that took the upload, state and report kept in PostgreSQL for all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from gateway.context import build_context
from gateway.resources import Resources
from gateway.rounds import rounds
from loaders import fleet_checks as sql
from loaders.db import Db
from resolvers.principal import Principal
from spreadsheets.fleet_check import check_file
from spreadsheets.fleet_files import FleetFileError
from spreadsheets.fleet_reports import report_tables

log = logging.getLogger("fir.fleet")
CHUNK_BYTES = 1024 * 1024
# a job whose replica stopped (crash, redeploy) stops moving: past this it is reported failed, for good
STALE_AFTER_SECONDS = 15 * 60
# a live job moves at least this often, queued or in one long stage (a big xlsx report): its heartbeat
HEARTBEAT_SECONDS = 60.0
EXPIRY_INTERVAL = 600.0  # seconds between rounds deleting expired checks and their reports


@contextlib.asynccontextmanager
async def expiring(
    pool: asyncpg.Pool, *, interval: float = EXPIRY_INTERVAL, first_delay: float = 60.0
) -> AsyncIterator[asyncio.Task[None]]:
    """Expired checks deleted with their report chunks while the gateway runs, not only when the next
    upload comes (with no uploads, a day's reports stayed in PostgreSQL for good). Every process may
    run it: the delete of a row already gone deletes nothing."""

    async def delete_expired() -> None:
        deleted = await sql.delete_expired(Db(pool))
        if deleted:
            log.info("fleet checks: %d expired, deleted with their reports", deleted)

    what = "fleet checks: deleting expired ones"
    async with rounds(delete_expired, interval=interval, first_delay=first_delay, what=what, log=log) as task:
        yield task


class _GivenUp(Exception):
    """The check was declared failed (stale) while this replica still had it: the verdict stands."""


class FleetJobs:
    """The checks this replica runs, at most `concurrent` at once (each a DuckDB with its own memory limit)."""

    def __init__(
        self, resources: Resources, concurrent: int = 1, heartbeat: float = HEARTBEAT_SECONDS
    ) -> None:
        self.resources = resources
        self._slots = asyncio.Semaphore(concurrent)
        self._heartbeat = heartbeat
        self._tasks: set[asyncio.Task[None]] = set()
        self.spool = Path(resources.settings.data_dir) / "fleet-checks"

    def work_dir(self) -> Path:
        self.spool.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="check-", dir=self.spool))

    def start(self, check_id: uuid.UUID, principal: Principal, source: Path, report_kind: str) -> None:
        task = asyncio.create_task(self._run(check_id, principal, source, report_kind))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, check_id: uuid.UUID, principal: Principal, source: Path, report_kind: str) -> None:
        db = Db(self.resources.pool)
        try:
            async with self._beating(db, check_id), self._slots:
                await self._check(db, check_id, principal, source, report_kind)
        except _GivenUp:
            log.warning("fleet check %s was reported failed (stale) while it ran; stopped", check_id)
        except FleetFileError as error:
            await sql.fail_check(db, check_id, str(error))
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(sql.fail_check(db, check_id, "the gateway stopped during the check"))
            raise
        except Exception:
            log.exception(
                "fleet check %s failed", check_id
            )  # logged once, here; the caller gets no internals
            await sql.fail_check(db, check_id, "internal error")
        finally:
            shutil.rmtree(source.parent, ignore_errors=True)

    def _beating(self, db: Db, check_id: uuid.UUID) -> contextlib.AbstractAsyncContextManager[object]:
        """updated_at refreshed every heartbeat while the job waits for a slot and while it runs (it
        moves by itself only when the stage does): a live check is never taken for a stopped one."""

        async def touch() -> None:
            await sql.touch_check(db, check_id)

        what = f"fleet check {check_id}: heartbeat"
        return rounds(touch, interval=self._heartbeat, first_delay=self._heartbeat, what=what, log=log)

    async def _check(
        self, db: Db, check_id: uuid.UUID, principal: Principal, source: Path, report_kind: str
    ) -> None:
        async def stage(name: str, rows: int | None) -> None:
            # done only once the report is stored, below
            if not await sql.set_stage(db, check_id, "storing" if name == "done" else name, rows):
                raise _GivenUp

        target = source.parent / f"report.{report_kind}"
        ctx = build_context(self.resources, principal)
        memory = self.resources.settings.fleet_memory_limit
        done = await check_file(ctx, source, target, memory_limit=memory, progress=stage)
        result = {
            "summary": done.report.summary(),
            "tables": report_tables(done.report),
            "problems": done.problems,
        }
        async with db.transaction() as tx:  # the report is there whole, or the check is not done
            size = await _store(tx, check_id, target)
            if not await sql.finish_check(tx, check_id, result, size):
                raise _GivenUp  # its chunks go with the transaction


async def _store(db: Db, check_id: uuid.UUID, report: Path) -> int:
    size = 0
    with report.open("rb") as handle:
        for seq, chunk in enumerate(iter(lambda: handle.read(CHUNK_BYTES), b"")):
            await sql.store_chunk(db, check_id, seq, chunk)
            size += len(chunk)
    return size
