"""A fleet workbook's code that Excel turned into scientific notation is refused, as the CPL importer refuses it."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import duckdb
import openpyxl
import pytest

from spreadsheets.fleet_check import check_file
from tests.builders import SUPPLIER, Builder, context_for

HEADER = ["ref", "manufacturerId", "modelId", "hardwareVersion", "firmwareVersion"]


@pytest.fixture
async def model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002", "00000003")


async def test_a_code_shown_in_scientific_notation_makes_its_row_invalid(
    pool: asyncpg.Pool, model: None, tmp_path: Path
) -> None:
    """Typed into a General cell, `00001E05` becomes the number 100000 shown 1.00E+05, and `1E02` the
    number 100: padded, they were checked as firmware 00100000 and model 0100, which nobody typed. A
    plain number (leading zeros lost: 3) is still padded, whatever text its format quotes."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["m2", "106C", "4331", "00AC", 100000])
    sheet["E2"].number_format = "0.00E+00"
    sheet.append(["m3", "106C", 100, "00AC", "00000003"])
    sheet["C3"].number_format = "##0.0E+0"
    sheet.append(["m4", "106C", "4331", "00AC", 3])
    sheet.append(["m5", "106C", "4331", "00AC", 3])
    sheet["E5"].number_format = '"E+"0'  # quoted text in the format: not scientific
    book.save(tmp_path / "meters.xlsx")

    target = tmp_path / "report.parquet"
    done = await check_file(context_for(pool, SUPPLIER), tmp_path / "meters.xlsx", target)

    assert [(p["row"], p["field"]) for p in done.problems] == [(2, "firmwareVersion"), (3, "modelId")]
    assert done.problems[0]["message"].startswith(
        "firmwareVersion: the workbook holds this code as a number in scientific notation (1.00E+05)"
    )
    assert (
        "format the column as Text" in done.problems[1]["message"]
        and "(1.00E+02)" in done.problems[1]["message"]
    )
    found = duckdb.sql(f"select row, firmware_version, status from '{target}' order by row").fetchall()
    assert found == [
        (2, "1.00E+05", "invalid"),  # the file's cell as it shows it, not 00100000
        (3, "00000003", "invalid"),
        (4, "00000003", "up_to_date"),
        (5, "00000003", "up_to_date"),
    ]


async def test_a_csv_printed_from_such_a_cell_says_so(
    pool: asyncpg.Pool, model: None, tmp_path: Path
) -> None:
    source = tmp_path / "meters.csv"
    source.write_text(",".join(HEADER) + "\nm2,106C,4331,00AC,1E+05\nm3,106C,4331,00AC,1E5\n")
    done = await check_file(context_for(pool, SUPPLIER), source, tmp_path / "report.csv")
    assert [(p["row"], p["field"]) for p in done.problems] == [(2, "firmwareVersion"), (3, "firmwareVersion")]
    assert "scientific notation (1E+05)" in done.problems[0]["message"]
    assert done.problems[1]["message"] == "firmwareVersion must be 8 hexadecimal digits, got '1E5'"  # hex
