"""CPL import against a real database: atomic commit, re-import, conflicts, publication, audit."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from loaders.audit import Actor
from loaders.db import Db
from loaders.rows import ReleaseRow
from resolvers import cpl_listing as listing
from resolvers.cpl_import import import_cpl
from resolvers.cpl_rows import COLUMNS, FIRMWARE, IMAGE_HASH, NUMBER, CplFileError
from resolvers.publishing import publish_waiting
from resolvers.unit_of_work import unit_of_work
from spreadsheets.cpl_files import CplWorkbook
from tests.fixtures_cpl import (
    FAULTY_ROWS,
    HASH_1,
    REAL_ROWS,
    V2051,
    generated_row,
    generated_rows,
    with_cell,
    write_cpl,
)

DAY_1 = date(2022, 9, 21)
DAY_2 = date(2022, 10, 5)
V2052 = "Version 2.052 Issued on 05-10-2022"


async def entries(db: Db) -> dict[int, Any]:
    return {r["number"]: r for r in await db.fetch("select * from cpl_entries order by number")}


async def audit(db: Db, action: str | None = None) -> list[Any]:
    return await db.fetch(
        "select * from audit_events where $1::text is null or action = $1 order by id", action
    )


async def run(db: Db, path: Path, today: date = DAY_1) -> Any:
    return await import_cpl(db, CplWorkbook(path), actor="secas-1", organisation="SECAS", today=today)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_real_rows_are_listed_normalised(db: Db, tmp_path: Path, suffix: str) -> None:
    report = await run(db, write_cpl(tmp_path / f"cpl{suffix}", REAL_ROWS))

    assert (report.rows_read, report.added, report.updated, report.removed, report.unchanged) == (
        2,
        2,
        0,
        0,
        0,
    )
    assert report.problems == [] and report.cpl_version == V2051
    got = await entries(db)
    assert got[1]["status"] == "CURRENT" and got[1]["device_type"] == "CHF"
    assert (got[1]["manufacturer_id"], got[1]["model_id"], got[1]["hardware_version"]) == (
        "106C",
        "4331",
        "00AC",
    )
    assert (got[1]["firmware_version"], got[1]["image_hash"]) == ("124074DA", HASH_1)
    assert (got[1]["smets_chts_version"], got[1]["gbcs_version"]) == ("CHTS V1.0", "GBCS Version 1.0")
    assert (got[1]["listed_on"], got[1]["removed_on"], got[1]["cpl_version"]) == (DAY_1, None, V2051)
    # an entry first seen as Removed was removed on the date of the issue that first shows it so
    assert (got[23]["status"], got[23]["hardware_version"], got[23]["removed_on"]) == (
        "REMOVED",
        "0101",
        DAY_1,
    )
    names = await db.fetch("select manufacturer_id, name from manufacturers order by 1")
    assert [tuple(r) for r in names] == [("1063", "Manufacturer 1063"), ("106C", "Manufacturer 106C")]
    models = await db.fetch("select model_id, device_type from device_models order by 1")
    assert [tuple(r) for r in models] == [("4331", "CHF"), ("4772", "GSME")]


async def test_bad_rows_are_reported_and_good_rows_committed(db: Db, tmp_path: Path) -> None:
    rows = REAL_ROWS + [row for row, _ in FAULTY_ROWS] + generated_rows(range(100, 103))
    report = await run(db, write_cpl(tmp_path / "cpl.xlsx", rows))

    # row 1 is the header: the first faulty row is spreadsheet row 4
    expected = [(4 + i, column) for i, (_, column) in enumerate(FAULTY_ROWS)]
    assert [(p.row_number, p.column) for p in report.problems] == expected
    assert report.rows_read == len(rows) and report.added == 5
    assert sorted(await entries(db)) == [1, 23, 100, 101, 102]


async def test_missing_columns_reject_the_file_before_any_write(db: Db, tmp_path: Path) -> None:
    header = [c for c in COLUMNS if c != IMAGE_HASH]
    path = write_cpl(tmp_path / "cpl.csv", [row[:-1] for row in REAL_ROWS], header=header)
    with pytest.raises(CplFileError, match=IMAGE_HASH):
        await run(db, path)
    assert await entries(db) == {} and await audit(db) == []


async def test_a_failure_rolls_back_every_good_row(
    db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> list[ReleaseRow]:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(listing, "publish_waiting", broken)
    with pytest.raises(RuntimeError):
        await run(db, write_cpl(tmp_path / "cpl.csv", REAL_ROWS + generated_rows(range(100, 150))))
    assert await entries(db) == {}
    assert await db.fetchval("select count(*) from manufacturers") == 0
    assert await audit(db) == []


async def test_reimport_of_a_newer_version(db: Db, tmp_path: Path) -> None:
    first = generated_rows(range(100, 110))
    await run(db, write_cpl(tmp_path / "v1.xlsx", REAL_ROWS + first))
    newer = [
        *REAL_ROWS,
        *generated_rows(range(100, 108)),
        generated_row(108, version=V2052, status="Removed"),
        with_cell(generated_row(109, version=V2052), "GBCS Version.version_number", "GBCS Version 3.0"),
        *generated_rows(range(110, 113), version=V2052),
    ]
    report = await run(db, write_cpl(tmp_path / "v2.xlsx", newer), today=DAY_2)

    assert (report.added, report.updated, report.removed, report.unchanged) == (3, 1, 1, 10)
    got = await entries(db)
    assert len(got) == 15
    assert (got[108]["status"], got[108]["removed_on"], got[108]["cpl_version"]) == ("REMOVED", DAY_2, V2052)
    assert (got[109]["gbcs_version"], got[109]["cpl_version"]) == ("GBCS Version 3.0", V2052)
    # unchanged entries keep the issue that last changed them
    assert got[100]["cpl_version"] == V2051 and got[110]["listed_on"] == DAY_2

    again = await run(db, write_cpl(tmp_path / "v2.csv", newer), today=DAY_2)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 15)


async def test_relisting_a_removed_entry_clears_its_removal_date(db: Db, tmp_path: Path) -> None:
    await run(db, write_cpl(tmp_path / "a.csv", [generated_row(5)]))
    await run(db, write_cpl(tmp_path / "b.csv", [generated_row(5, status="Removed")]), today=DAY_2)
    report = await run(db, write_cpl(tmp_path / "c.csv", [generated_row(5)]))
    got = (await entries(db))[5]
    assert report.updated == 1 and (got["status"], got["removed_on"]) == ("CURRENT", None)


async def test_conflicts_with_the_database_are_row_problems(db: Db, tmp_path: Path) -> None:
    await run(db, write_cpl(tmp_path / "v1.csv", REAL_ROWS + generated_rows(range(100, 103))))
    moved = generated_row(100)
    moved[1] = 200  # the identity of entry 100 under a new number
    rows = [
        with_cell(generated_row(101), FIRMWARE, "AAAAAAAA"),  # entry 101 re-pointed
        with_cell(generated_row(102), IMAGE_HASH, "F" * 64),  # entry 102's hash changed
        moved,
        generated_row(300),
    ]
    report = await run(db, write_cpl(tmp_path / "v2.csv", rows), today=DAY_2)

    assert [(p.row_number, p.column) for p in report.problems] == [
        (2, FIRMWARE),
        (3, IMAGE_HASH),
        (4, NUMBER),
    ]
    assert "entry 100" in report.problems[2].reason
    assert (report.added, report.updated, report.unchanged) == (1, 0, 0)
    got = await entries(db)
    assert sorted(got) == [1, 23, 100, 101, 102, 300] and got[101]["firmware_version"] == f"{101:08X}"


async def insert_release(db: Db, *, status: str, image_hash: str = HASH_1, firmware: str = "124074DA") -> int:
    await db.execute(
        "insert into manufacturers (manufacturer_id, name) values ('106C', 'Toshiba') on conflict do nothing"
    )
    await db.execute(
        "insert into device_models (manufacturer_id, model_id, device_type) values ('106C', '4331', 'CHF')"
        " on conflict do nothing"
    )
    release_id: int = await db.fetchval(
        "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
        " image_hash, status, release_notes) values ('106C', '4331', '00AC', $1, $2, $3::release_status, 'n')"
        " returning id",
        firmware,
        image_hash,
        status,
    )
    return release_id


async def test_import_publishes_a_waiting_submission(db: Db, tmp_path: Path) -> None:
    waiting = await insert_release(db, status="SUBMITTED")
    wrong_hash = await insert_release(db, status="SUBMITTED", firmware="124074DB", image_hash="A" * 64)
    draft = await insert_release(db, status="DRAFT", firmware="124074DC")
    rows = [
        *REAL_ROWS,
        with_cell(with_cell(REAL_ROWS[0], NUMBER, 2), FIRMWARE, "124074DB"),
        with_cell(with_cell(with_cell(REAL_ROWS[0], NUMBER, 3), FIRMWARE, "124074DC"), IMAGE_HASH, "C" * 64),
    ]
    report = await run(db, write_cpl(tmp_path / "cpl.xlsx", rows))

    assert report.published == 1
    status = {r["id"]: r for r in await db.fetch("select * from firmware_releases")}
    assert (status[waiting]["status"], status[waiting]["cpl_entry_number"]) == ("PUBLISHED", 1)
    assert status[waiting]["published_by"] == "secas-1" and status[waiting]["published_at"] is not None
    assert status[wrong_hash]["status"] == "SUBMITTED" and status[draft]["status"] == "DRAFT"
    [event] = await audit(db, "firmwareRelease.publish")
    assert (event["entity_type"], event["entity_id"]) == ("FirmwareRelease", str(waiting))
    assert (event["before"]["status"], event["after"]["status"]) == ("SUBMITTED", "PUBLISHED")


async def test_import_announces_what_it_publishes(db: Db, db_url: str, tmp_path: Path) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(db_url)
    try:
        await listener.add_listener("fir_release_published", lambda *args: heard.put_nowait(args[3]))
        waiting = await insert_release(db, status="SUBMITTED")
        await run(db, write_cpl(tmp_path / "cpl.csv", REAL_ROWS))
        assert await asyncio.wait_for(heard.get(), 5) == str(waiting)
    finally:
        await listener.close()


async def test_publish_waiting_limited_to_numbers(db: Db, tmp_path: Path) -> None:
    await run(db, write_cpl(tmp_path / "cpl.csv", REAL_ROWS))
    waiting = await insert_release(db, status="SUBMITTED")
    async with unit_of_work(db, Actor("a", None)) as work:
        assert await publish_waiting(work, [23]) == []
        [published] = await publish_waiting(work, [1])
    assert (published.id, published.cpl_entry_number, published.firmware_version) == (waiting, 1, "124074DA")
    assert (published.status, published.published_by) == ("PUBLISHED", "a")
    assert len(await audit(db, "firmwareRelease.publish")) == 1


async def waiting_release(db: Db, number: int, *sources: int) -> int:
    """A submission for generated_row(number)'s identity and hash, upgradable from the others'."""
    await db.execute("insert into manufacturers values ('1234', 'M') on conflict do nothing")
    await db.execute("insert into device_models values ('1234', '0000', null, 'ESME') on conflict do nothing")
    release_id: int = await db.fetchval(
        "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
        " image_hash, status) values ('1234', '0000', '0102', $1, $2, 'SUBMITTED') returning id",
        f"{number:08X}",
        generated_row(number)[COLUMNS.index(IMAGE_HASH)],
    )
    for source in sources:
        await db.execute("insert into release_upgradable_from values ($1, $2)", release_id, f"{source:08X}")
    return release_id


async def test_upgrade_edges_against_listing_order_are_reported_not_refused(db: Db, tmp_path: Path) -> None:
    on_10 = await waiting_release(db, 10, 13)  # entry 13 is listed after entry 10: backwards
    on_13 = await waiting_release(db, 13, 10, 15)  # 10 is fine; 15 is not on the CPL at all
    await waiting_release(db, 15, 13)  # 15 stays unlisted: no order to break yet
    report = await run(db, write_cpl(tmp_path / "cpl.csv", generated_rows([10, 13])))

    assert (report.added, report.published, report.problems) == (2, 2, [])
    found = [(p.row_number, p.column, p.reason) for p in report.backward_edges]
    assert [(row, column) for row, column, _ in found] == [(2, NUMBER), (3, NUMBER)]
    assert f"release {on_10} on entry 10" in found[0][2] and "entry 13" in found[0][2]
    assert f"release {on_13} on entry 13" in found[1][2]
    assert "firmware 0000000F, which is not on the CPL" in found[1][2]
    assert report.counts()["backward_edges"] == 2
    [summary] = await audit(db, "cpl.import")
    assert summary["after"]["backward_edges"] == 2
    # reported on each import that lists either end, until someone fixes the edge
    again = await run(db, write_cpl(tmp_path / "cpl.csv", generated_rows([13])), today=DAY_2)
    assert [p.row_number for p in again.backward_edges] == [2, 2]


async def test_every_change_is_audited(db: Db, tmp_path: Path) -> None:
    await run(db, write_cpl(tmp_path / "v1.csv", REAL_ROWS))
    removed = with_cell(REAL_ROWS[0], "Entry.status", "Removed")
    await run(db, write_cpl(tmp_path / "v2.csv", [with_cell(removed, "Version", V2052)]), today=DAY_2)

    events = await audit(db)
    assert [(e["action"], e["entity_id"]) for e in events] == [
        ("manufacturer.create", "1063"),
        ("manufacturer.create", "106C"),
        ("deviceModel.create", "1063/4772"),
        ("deviceModel.create", "106C/4331"),
        ("cplEntry.list", "1"),
        ("cplEntry.list", "23"),
        ("cpl.import", V2051),
        ("cplEntry.remove", "1"),
        ("cpl.import", V2052),
    ]
    assert {e["actor"] for e in events} == {"secas-1"} and {e["organisation"] for e in events} == {"SECAS"}
    listed = events[4]
    assert listed["entity_type"] == "CplEntry" and listed["before"] is None
    assert listed["after"]["image_hash"] == HASH_1 and "created_at" not in listed["after"]
    removal = events[7]
    assert (removal["before"]["status"], removal["after"]["status"]) == ("CURRENT", "REMOVED")
    assert removal["after"]["removed_on"] == DAY_2.isoformat()
    summary = events[-1]
    assert summary["entity_type"] == "CplDocument"
    assert summary["after"] | {"file": None} == {
        "rows_read": 1, "added": 0, "updated": 0, "removed": 1, "unchanged": 0, "published": 0,
        "problems": 0, "backward_edges": 0, "file": None,
    }  # fmt: skip


async def test_ten_thousand_rows(db: Db, tmp_path: Path) -> None:
    path = write_cpl(tmp_path / "big.xlsx", generated_rows(range(1, 10_001)))
    seen: list[tuple[int, int | None]] = []
    started = time.perf_counter()
    report = await import_cpl(
        db, CplWorkbook(path), actor="secas-1", organisation=None, progress=lambda d, t: seen.append((d, t))
    )
    elapsed = time.perf_counter() - started
    print(f"\n10,000-row xlsx import: {elapsed:.2f} s")
    assert report.added == 10_000 and report.problems == []
    # openpyxl's write-only files carry no dimension, so the total is known only at the end
    assert seen[0] == (1000, None) and seen[-1] == (10_000, 10_000)
    assert await db.fetchval("select count(*) from audit_events where action = 'cplEntry.list'") == 10_000
