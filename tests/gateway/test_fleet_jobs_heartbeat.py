"""A live fleet check beats while it waits for a slot and while it runs: never reported failed, then done."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path

import asyncpg
import pytest

from gateway import fleet_checks
from gateway.fleet_jobs import FleetJobs
from gateway.resources import Resources
from gateway.settings import load_settings
from loaders import fleet_checks as sql
from loaders.db import Db
from tests.builders import SUPPLIER, Builder

STALE = 2.0  # STALE_AFTER_SECONDS (15 minutes) and the heartbeat (a minute) scaled down alike
BEAT = 0.25
ROWS = 10_000  # an xlsx report of these takes longer than STALE to write, a stage that does not move


def jobs_on(pool: asyncpg.Pool, tmp_path: Path, heartbeat: float) -> FleetJobs:
    settings = dataclasses.replace(load_settings(env_file=None), data_dir=str(tmp_path))
    return FleetJobs(Resources(settings=settings, pool=pool), heartbeat=heartbeat)


async def submit(jobs: FleetJobs, db: Db, rows: int) -> uuid.UUID:
    """As POST /fleet-checks does: the file spooled, the check created, the job started."""
    source = jobs.work_dir() / "meters.csv"
    with source.open("w") as handle:
        handle.write("ref,manufacturer_id,model_id,hardware_version,firmware_version\n")
        handle.writelines(f"M{n},106C,4331,00AC,0000000{1 + n % 3}\n" for n in range(rows))
    check_id = await sql.create_check(db, SUPPLIER.actor, "csv", "xlsx", 3600)
    jobs.start(check_id, SUPPLIER, source, "xlsx")
    return check_id


async def shown(db: Db, check_id: uuid.UUID) -> str:
    """The stage GET /fleet-checks/{id} answers."""
    found = await sql.get_check(db, check_id)
    assert found is not None
    return fleet_checks.describe(await fleet_checks.settled(db, found))["stage"]


async def test_a_queued_and_a_long_running_check_are_never_reported_failed(
    pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One check runs at a time per replica: the second waits in the queue while the first writes its
    xlsx report; neither stage moves for longer than STALE, and both end done."""
    monkeypatch.setattr(fleet_checks, "STALE_AFTER_SECONDS", STALE)
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002", "00000003")
    db = Db(pool)
    jobs = jobs_on(pool, tmp_path, BEAT)
    checks = [await submit(jobs, db, ROWS) for _ in range(2)]
    seen: dict[uuid.UUID, list[str]] = {c: [] for c in checks}
    async with asyncio.timeout(120):
        while jobs._tasks or any(s[-1:] != ["done"] for s in seen.values()):
            for check_id, stages in seen.items():
                stage = await shown(db, check_id)
                if stages[-1:] != [stage]:
                    stages.append(stage)
            await asyncio.sleep(0.1)
    assert all("failed" not in stages and stages[-1] == "done" for stages in seen.values()), seen
    assert "queued" in seen[checks[1]] and "writing" in seen[checks[0]]
