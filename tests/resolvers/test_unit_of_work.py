"""The one write path: a publication or a listing is the same recorded change whichever path made it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gateway.database import DatabaseHandle
from loaders.audit import Actor
from loaders.db import Db, create_pool
from loaders.vocabulary import AuditAction, EntityType
from resolvers import unit_of_work as uow
from resolvers.cpl_import import import_cpl
from resolvers.unit_of_work import Change, unit_of_work
from schema.schema import build_schema
from spreadsheets.cpl_files import CplWorkbook
from tests.builders import SECAS, Builder, audit_rows, execute
from tests.conftest import fresh_database
from tests.fixtures_cpl import HASH_1, REAL_ROWS, V2051, write_cpl

SCHEMA = build_schema()
ISSUED = dt.date(2022, 9, 21)
SUBMIT = (
    """mutation($input: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $input) { id status } }"""
)
LIST = """mutation($input: CplEntryInput!) { listCplEntry(input: $input) { number status } }"""
SUBMISSION = {
    "manufacturerId": "106C",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "124074DA",
    "imageHash": HASH_1,
    "releaseDate": "2022-09-01",
    "releaseNotes": "Join retry fix.",
    "urgency": "HIGH",
    "advisories": ["CVE-2022-1234"],
}
# Entries 1 and 23 of CPL v2.051 (REAL_ROWS) as listCplEntry states them.
LISTINGS = {
    1: {
        "number": 1,
        "status": "CURRENT",
        "deviceType": "CHF",
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "124074DA",
        "imageHash": HASH_1,
        "smetsChtsVersion": "CHTS V1.0",
        "gbcsVersion": "GBCS Version 1.0",
        "cplVersion": V2051,
        "listedOn": ISSUED.isoformat(),
    },
    23: {
        "number": 23,
        "status": "REMOVED",
        "deviceType": "GSME",
        "manufacturerId": "1063",
        "modelId": "4772",
        "hardwareVersion": "0101",
        "firmwareVersion": "03030236",
        "imageHash": REAL_ROWS[1][-1],
        "smetsChtsVersion": "SMETS V2.0",
        "gbcsVersion": "GBCS Version 1.0",
        "cplVersion": V2051,
        "listedOn": ISSUED.isoformat(),
    },
}
# who and when: the only keys allowed to differ between paths
_ACTOR_AND_TIME = {"submitted_by", "submitted_org", "published_by"}

Step = Callable[[asyncpg.Pool, Path], Awaitable[None]]


async def submit(pool: asyncpg.Pool, _tmp: Path) -> None:
    result = await execute(SCHEMA, pool, SUBMIT, SECAS, input=SUBMISSION)
    assert result.errors is None, result.errors


def list_entry(number: int) -> Step:
    async def step(pool: asyncpg.Pool, _tmp: Path) -> None:
        result = await execute(SCHEMA, pool, LIST, SECAS, input=LISTINGS[number])
        assert result.errors is None, result.errors

    return step


def import_rows(*indexes: int) -> Step:
    async def step(pool: asyncpg.Pool, tmp: Path) -> None:
        path = write_cpl(tmp / "cpl.csv", [REAL_ROWS[i] for i in indexes])
        report = await import_cpl(
            Db(pool), CplWorkbook(path), actor="secas-2", organisation="SECAS", today=ISSUED
        )
        assert report.problems == []

    return step


PUBLICATIONS: dict[str, list[Step]] = {
    "mutation": [list_entry(1), submit],  # the submission finds its entry listed and publishes at once
    "listCplEntry": [submit, list_entry(1)],
    "import": [submit, import_rows(0)],
}


async def events_after(server: DatabaseHandle, template: str, tmp: Path, steps: Sequence[Step]) -> list[Any]:
    """Run `steps` on a fresh database holding manufacturer 106C and its model 4331."""
    pool = await create_pool(await fresh_database(server.url, template), min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await Builder(conn).manufacturer("106C")
            await Builder(conn).model("106C", "4331", "CHF")
        for step in steps:
            await step(pool, tmp)
        return await audit_rows(pool)
    finally:
        await pool.close()


def canonical(event: Any) -> tuple[Any, ...]:
    """An audit event without its actor and times."""

    def strip(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: v for k, v in value.items() if k not in _ACTOR_AND_TIME and not k.endswith("_at")}

    return (
        event["action"],
        event["entity_type"],
        event["entity_id"],
        strip(event["before"]),
        strip(event["after"]),
    )


async def test_one_publication_is_one_event_whichever_path(
    pg_server: DatabaseHandle, template_db: str, tmp_path: Path
) -> None:
    seen: dict[str, list[tuple[Any, ...]]] = {}
    for path, steps in PUBLICATIONS.items():
        events = await events_after(pg_server, template_db, tmp_path, steps)
        seen[path] = [canonical(e) for e in events if e["entity_type"] in ("FirmwareRelease", "CplEntry")]
    mutation = seen["mutation"]
    [publication] = [e for e in mutation if e[0] == "firmwareRelease.publish"]
    assert (publication[3]["status"], publication[4]["status"]) == ("SUBMITTED", "PUBLISHED")
    assert publication[4]["cpl_entry_number"] == 1 and publication[4]["cpl_status"] == "CURRENT"
    for path in ("listCplEntry", "import"):
        assert sorted(seen[path], key=repr) == sorted(mutation, key=repr), path


async def test_an_entry_listed_as_removed_is_removed_on_its_issue_date(
    pg_server: DatabaseHandle, template_db: str, tmp_path: Path
) -> None:
    listed = await events_after(pg_server, template_db, tmp_path, [list_entry(23)])
    imported = await events_after(pg_server, template_db, tmp_path, [import_rows(1)])

    def entry_events(events: list[Any]) -> list[tuple[Any, ...]]:
        return [canonical(e) for e in events if e["action"] != "cpl.import"]

    assert entry_events(listed) == entry_events(imported)
    [entry] = [e for e in listed if e["action"] == "cplEntry.list"]
    assert (entry["after"]["status"], entry["after"]["removed_on"]) == ("REMOVED", ISSUED.isoformat())
    makers = [e for e in imported if e["action"] == "manufacturer.create"]
    assert [m["after"]["name"] for m in makers] == ["Manufacturer 1063"]


async def test_consumers_see_every_change_in_the_transaction(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    heard: list[tuple[str, int]] = []

    async def counting(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
        heard.append((who.actor, len(changes)))
        # inside the transaction: the audit consumer that ran first already wrote the rows
        assert await tx.fetchval("select count(*) from audit_events") == len(changes)

    monkeypatch.setattr(uow, "CONSUMERS", (*uow.CONSUMERS, counting))
    async with unit_of_work(db, Actor("a", "Org")) as work:
        for i in range(3):
            work.record(
                Change(AuditAction.MANUFACTURER_UPSERT, EntityType.MANUFACTURER, f"000{i}", None, {"i": i})
            )
    assert heard == [("a", 3)]
    rows = await db.fetch("select action, entity_id, after, organisation from audit_events order by id")
    assert [(r["entity_id"], r["after"], r["organisation"]) for r in rows] == [
        ("0000", {"i": 0}, "Org"),
        ("0001", {"i": 1}, "Org"),
        ("0002", {"i": 2}, "Org"),
    ]


async def test_a_failing_consumer_rolls_the_change_back(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(tx: Db, who: Actor, changes: Sequence[Change]) -> None:
        raise RuntimeError("log unavailable")

    monkeypatch.setattr(uow, "CONSUMERS", (*uow.CONSUMERS, broken))
    with pytest.raises(RuntimeError):
        async with unit_of_work(db, Actor("a", None)) as work:
            await work.tx.execute("insert into manufacturers (manufacturer_id, name) values ('ABCD', 'x')")
            work.record(Change(AuditAction.MANUFACTURER_UPSERT, EntityType.MANUFACTURER, "ABCD", None, {}))
    assert await db.fetchval("select count(*) from manufacturers") == 0
    assert await db.fetchval("select count(*) from audit_events") == 0
