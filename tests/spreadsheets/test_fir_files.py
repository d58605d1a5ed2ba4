"""The FIR spreadsheet written as xlsx and csv: columns, values read back, only published FIR records."""

from __future__ import annotations

import csv
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from loaders.db import Db
from resolvers.cpl_import import import_cpl
from resolvers.cpl_rows import COLUMNS
from resolvers.fir_export import HEADER
from spreadsheets.cpl_files import CplWorkbook
from spreadsheets.fir_files import export_fir
from tests.fixtures_cpl import HASH_1, REAL_ROWS, V2051, fake_hash, generated_rows, write_cpl

RELEASE_DATE = date(2022, 8, 1)


def read_back(path: Path) -> list[list[Any]]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [[None if cell == "" else cell for cell in row] for row in csv.reader(handle)]
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        # write-only files carry no dimension, so read-only rows end at their last non-empty cell
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        return [row + [None] * (len(HEADER) - len(row)) for row in rows]
    finally:
        workbook.close()


def by_number(rows: list[list[Any]]) -> dict[int, dict[str, Any]]:
    header, *data = rows
    return {int(row[1]): dict(zip(header, row, strict=True)) for row in data}


async def add_release(db: Db, number: int, status: str, **fields: Any) -> int:
    """A FIR release for CPL entry `number`'s identity and hash."""
    release_id: int = await db.fetchval(
        "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
        " image_hash, status, release_date, release_notes, urgency, advisories, published_at, withdrawn_at)"
        " select manufacturer_id, model_id, hardware_version, firmware_version, image_hash,"
        " $2::release_status, $3, $4, $5::urgency, $6,"
        " case when $2 = 'PUBLISHED' then now() end, case when $2 = 'WITHDRAWN' then now() end"
        " from cpl_entries where number = $1 returning id",
        number,
        status,
        fields.get("release_date", RELEASE_DATE),
        fields.get("notes", f"notes {number}"),
        fields.get("urgency", "HIGH"),
        fields.get("advisories", []),
    )
    return release_id


@pytest.fixture
async def fir(db: Db, tmp_path: Path) -> Db:
    """Two real entries and entries 100-105 of one model, with releases in every status and contacts."""
    await import_cpl(
        db,
        CplWorkbook(write_cpl(tmp_path / "cpl.csv", REAL_ROWS + generated_rows(range(100, 106)))),
        actor="t",
        organisation=None,
    )
    await db.execute(
        "insert into contacts (manufacturer_id, role, name, email, phone, position, retired_at) values"
        " ('106C', 'FIRMWARE', 'Old Desk', 'old@example.com', null, 0, now()),"
        " ('106C', 'SUPPORT', 'Support', 'support@example.com', null, 0, null),"
        " ('106C', 'FIRMWARE', 'Firmware Desk', 'fw@example.com', '+44 20 7946 0000', 1, null),"
        " ('1234', 'FIRMWARE', null, 'fw@1234.example', null, 0, null)"
    )
    await add_release(db, 1, "PUBLISHED", advisories=["CVE-2021-1234", "CVE-2022-0001"], urgency="CRITICAL")
    release = await add_release(db, 103, "PUBLISHED", notes='=HYPERLINK("x")\nline two')
    await db.execute(
        "insert into release_upgradable_from values ($1, '00000065'), ($1, '00000064'), ($1, 'DEADBEEF')",
        release,
    )
    await add_release(db, 100, "DRAFT")
    await add_release(db, 101, "SUBMITTED")
    await add_release(db, 102, "WITHDRAWN")
    return db


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_export_round_trip(fir: Db, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"fir{suffix}"
    seen: list[tuple[int, int | None]] = []
    assert await export_fir(fir, path, progress=lambda d, t: seen.append((d, t))) == 8
    assert seen == [(8, 8)]

    rows = read_back(path)
    assert tuple(rows[0]) == HEADER and tuple(rows[0][:13]) == COLUMNS
    got = by_number(rows)
    assert list(got) == [1, 23, 100, 101, 102, 103, 104, 105]

    as_text = (lambda v: v) if suffix == ".csv" else str
    first = got[1]
    assert [as_text(first[c]) if c == "Entry.number" else first[c] for c in COLUMNS] == [
        V2051, "1", "Current", "Communications Hub", "106C", "4331", "0", "AC", "433100AC",
        "124074DA", "CHTS V1.0", "GBCS Version 1.0", HASH_1,
    ]  # fmt: skip
    release_date = first["FIR.release_date"]
    assert (release_date if suffix == ".csv" else release_date.date().isoformat()) == "2022-08-01"
    assert first["FIR.urgency"] == "CRITICAL" and first["FIR.release_notes"] == "notes 1"
    assert first["FIR.advisories"] == "CVE-2021-1234, CVE-2022-0001"
    assert first["FIR.firmware_contact"] == "Firmware Desk <fw@example.com> +44 20 7946 0000"
    assert first["FIR.upgradable_from_entries"] is None

    removed = got[23]
    assert (removed["Entry.status"], removed["Device_Model.hardware_version.version"]) == ("Removed", "1")
    assert removed["Device_Model.hardware_version.revision"] == "01" and removed["FIR.release_date"] is None

    upgraded = got[103]
    assert upgraded["FIR.upgradable_from_entries"] == "100, 101"
    assert upgraded["FIR.firmware_contact"] == "<fw@1234.example>"
    # text, never a formula: apostrophe-guarded in csv, a string cell in xlsx
    guard = "'" if suffix == ".csv" else ""
    assert upgraded["FIR.release_notes"] == guard + '=HYPERLINK("x")\nline two'

    # drafts, submissions and withdrawn releases never reach the FIR
    for number in (100, 101, 102, 104):
        assert [got[number][c] for c in HEADER[13:18]] == [None] * 5


async def test_export_follows_listing_order_not_release_dates(fir: Db, tmp_path: Path) -> None:
    # entry 105 is dated before 104 and upgrades from it: rows and sources stay in entry order
    await add_release(fir, 104, "PUBLISHED", release_date=date(2025, 5, 19))
    later = await add_release(fir, 105, "PUBLISHED", release_date=date(2025, 1, 1))
    await fir.execute(
        "insert into release_upgradable_from values ($1, '00000068'), ($1, '00000064'), ($1, '00000067')",
        later,
    )
    header, *rows = read_back(tmp_path / "fir.csv") if await export_fir(fir, tmp_path / "fir.csv") else []
    assert [int(row[1]) for row in rows] == [1, 23, 100, 101, 102, 103, 104, 105]
    assert dict(zip(header, rows[-1], strict=True))["FIR.upgradable_from_entries"] == "100, 103, 104"


async def test_export_matches_the_database(fir: Db, tmp_path: Path) -> None:
    got = by_number(read_back(tmp_path / "fir.csv") if await export_fir(fir, tmp_path / "fir.csv") else [])
    for entry in await fir.fetch("select * from cpl_entries"):
        row = got[entry["number"]]
        assert row["Device_Model.manufacturer_identifier"] == entry["manufacturer_id"]
        assert row["Device_Model.model_identifier"] == entry["model_id"]
        hardware = (
            row["Device_Model.hardware_version.version"].zfill(2)
            + row["Device_Model.hardware_version.revision"]
        )
        assert hardware == entry["hardware_version"]
        assert row["Device_Model.firmware_version"] == entry["firmware_version"]
        assert row["Manufacturer_Image.hash"] == entry["image_hash"]
        assert row["Entry.status"].upper() == entry["status"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_an_exported_fir_imports_as_unchanged(fir: Db, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"fir{suffix}"
    await export_fir(fir, path)
    report = await import_cpl(fir, CplWorkbook(path), actor="t", organisation=None)
    assert report.problems == []
    assert (report.rows_read, report.added, report.updated, report.unchanged) == (8, 0, 0, 8)


async def test_unknown_suffix_is_refused(db: Db, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.ods"):
        await export_fir(db, tmp_path / "fir.ods")
    assert os.listdir(tmp_path) == []


async def test_empty_fir_exports_the_header(db: Db, tmp_path: Path) -> None:
    assert await export_fir(db, tmp_path / "fir.csv") == 0
    assert read_back(tmp_path / "fir.csv") == [list(HEADER)]


async def test_thirty_thousand_rows(db: Db, tmp_path: Path) -> None:
    await import_cpl(
        db,
        CplWorkbook(write_cpl(tmp_path / "cpl.csv", generated_rows(range(1, 30_001)))),
        actor="t",
        organisation=None,
    )
    await db.execute(
        "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
        " image_hash, status, release_date, published_at)"
        " select manufacturer_id, model_id, hardware_version, firmware_version, image_hash, 'PUBLISHED',"
        " $1, now() from cpl_entries where number % 3 = 0",
        RELEASE_DATE,
    )
    for suffix in (".csv", ".xlsx"):
        started = time.perf_counter()
        written = await export_fir(db, tmp_path / f"fir{suffix}")
        print(f"\n30,000-row {suffix} export: {time.perf_counter() - started:.2f} s")
        assert written == 30_000
    got = by_number(read_back(tmp_path / "fir.csv"))
    assert got[30_000]["Manufacturer_Image.hash"] == fake_hash(30_000)
    assert got[30_000]["FIR.release_date"] == "2022-08-01" and got[29_999]["FIR.release_date"] is None
