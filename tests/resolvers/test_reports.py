"""SECAS's reports against a real database: each question through GraphQL, and the workbook `fir report` writes."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import openpyxl
import pytest

from loaders.db import Db
from resolvers.reports import secas_report
from schema.schema import build_schema
from spreadsheets.reports import write_report
from tests.builders import SECAS, SUPPLIER, Builder, execute, image_hash

SCHEMA = build_schema()
REPORTS = """{
  unrecordedCplEntries { number manufacturerId }
  blockedSubmissions { release { id version } reason cplEntryNumber }
  manufacturersWithoutFirmwareContact { manufacturerId }
}"""


@pytest.fixture
async def world(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        b = Builder(conn)
        for mid in ("106C", "1063"):
            await b.manufacturer(mid)
            await b.model(mid, "0001", "GSME")
        await conn.execute("update contacts set retired_at = now() where manufacturer_id = '1063'")
        ids = {
            "recorded": await b.release("106C", "0001", "0001", "00000001", date="2025-01-01", number=1),
            "unrecorded": await b.entry("1063", "0001", "0001", "00000001", number=2),
            "removed": await b.entry("106C", "0001", "0001", "00000003", number=3, status="REMOVED"),
            "other_hash": await b.entry("106C", "0001", "0001", "00000004", number=4),
        }
        for key, fw in (("no_entry", "00000002"), ("on_removed", "00000003"), ("hash_differs", "00000004")):
            ids[key] = await b.release(
                "106C", "0001", "0001", fw, date="2026-01-01", status="SUBMITTED", cpl_status=None
            )
        await conn.execute(
            "update firmware_releases set image_hash = $1 where id = $2",
            image_hash("another"),
            ids["hash_differs"],
        )
    return ids


async def test_the_three_questions(pool: asyncpg.Pool, world: dict[str, int]) -> None:
    result = await execute(SCHEMA, pool, REPORTS, SECAS)
    assert result.errors is None, result.errors
    data = result.data
    # by manufacturer, then entry; entry 4 has no FIR record either: its submission carries another hash
    assert [(e["manufacturerId"], e["number"]) for e in data["unrecordedCplEntries"]] == [
        ("1063", 2),
        ("106C", 4),
    ]
    assert [
        (int(b["release"]["id"]), b["reason"], b["cplEntryNumber"]) for b in data["blockedSubmissions"]
    ] == [
        (world["no_entry"], "NO_MATCHING_ENTRY", None),
        (world["on_removed"], "ENTRY_REMOVED", 3),
        (world["hash_differs"], "HASH_DIFFERS", 4),
    ]
    assert data["manufacturersWithoutFirmwareContact"] == [{"manufacturerId": "1063"}]


async def test_reports_are_secas_only(pool: asyncpg.Pool, world: dict[str, int]) -> None:
    result = await execute(SCHEMA, pool, REPORTS, SUPPLIER)
    assert result.data is None
    assert {e.extensions["code"] for e in result.errors} == {"FORBIDDEN"}


async def test_the_workbook_has_a_sheet_per_question(
    pool: asyncpg.Pool, world: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "report.xlsx"
    write_report(path, await secas_report(Db(pool)))
    book = openpyxl.load_workbook(path, read_only=True)
    sheets = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    assert [r[:2] for r in sheets["No FIR record"]] == [["Manufacturer", "Entry"], ["1063", 2], ["106C", 4]]
    assert [r[5] for r in sheets["Cannot publish"][1:]] == [
        "NO_MATCHING_ENTRY",
        "ENTRY_REMOVED",
        "HASH_DIFFERS",
    ]
    assert sheets["No firmware contact"] == [["Manufacturer", "Name"], ["1063", "Example Meters Ltd"]]
