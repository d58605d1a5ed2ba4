"""A device's row number in a fleet report is the row a spreadsheet shows it on: blank rows counted."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import duckdb
import openpyxl
import pytest

from spreadsheets.fleet_check import check_file
from spreadsheets.fleet_files import open_fleet
from tests.builders import SUPPLIER, Builder, context_for

HEADER = "ref,manufacturer_id,model_id,hardware_version,firmware_version"
GOOD = "106C,4331,00AC,00000003"
BAD = "106C,4331,00AC,0000000Z"  # malformed: the row is reported, by its number


@pytest.fixture
async def model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002", "00000003")


async def report_rows(pool: asyncpg.Pool, source: Path) -> tuple[list[tuple[object, ...]], list[int]]:
    """(row, ref) of every device in the report, by row, and the rows of the problems listed."""
    target = source.with_name("report.csv")
    done = await check_file(context_for(pool, SUPPLIER), source, target)
    rows = duckdb.sql(f"select row, ref from read_csv('{target}') order by row").fetchall()
    return rows, [p["row"] for p in done.problems]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([HEADER, f"m2,{GOOD}", "", f"m4,{BAD}"], [(2, "m2"), (4, "m4")]),
        ([HEADER, "", "", f"m4,{GOOD}", "", f"m6,{BAD}"], [(4, "m4"), (6, "m6")]),
        (["", HEADER, f"m3,{BAD}"], [(3, "m3")]),  # the header is on row 2
        ([HEADER, f"m2,{GOOD}", "", f"m4,{BAD}", "", ""], [(2, "m2"), (4, "m4")]),
    ],
    ids=["one-blank", "blanks-in-runs", "blank-before-header", "blanks-at-the-end"],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
async def test_a_csv_row_is_numbered_counting_blank_lines(
    pool: asyncpg.Pool,
    model: None,
    tmp_path: Path,
    lines: list[str],
    expected: list[tuple[object, ...]],
    newline: str,
) -> None:
    """DuckDB skips a blank line, so every row after one was numbered one short of its line."""
    source = tmp_path / "meters.csv"
    source.write_bytes((newline.join(lines) + newline).encode())
    rows, problems = await report_rows(pool, source)
    assert rows == expected and problems == [expected[-1][0]]  # the last row of each is malformed


async def test_a_value_over_two_lines_is_one_row(pool: asyncpg.Pool, model: None, tmp_path: Path) -> None:
    """The number is the record's, as a spreadsheet shows the file: a quoted newline (even a blank line
    inside quotes) is part of a value, not a row."""
    source = tmp_path / "meters.csv"
    source.write_text(f'{HEADER}\n"m2\nFlat 2\n\nLeeds",{GOOD}\n\nm4,{BAD}\nm5,{GOOD}\n')
    rows, problems = await report_rows(pool, source)
    assert rows == [(2, "m2\nFlat 2\n\nLeeds"), (4, "m4"), (5, "m5")] and problems == [4]


def test_a_csv_with_no_blank_line_is_read_by_duckdb_in_place(tmp_path: Path) -> None:
    """The common file keeps the fast path: no copy, row numbers from the table's own order."""
    source = tmp_path / "meters.csv"
    source.write_text(f"{HEADER}\nm2,{GOOD}\nm3,{BAD}\n\n")
    with open_fleet(source) as fleet:
        assert not fleet.numbered
        assert fleet.conn.execute(f"select {fleet.row_of('d')}, ref from devices d").fetchall() == [
            (2, "m2"),
            (3, "m3"),
        ]


async def test_an_xlsx_row_is_numbered_as_the_sheet_shows_it(
    pool: asyncpg.Pool, model: None, tmp_path: Path
) -> None:
    """Empty rows (none written, one of empty cells, a gap before a row written further down) count."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["m2", *GOOD.split(",")])
    sheet.append([])  # row 3: nothing
    sheet.append(["m4", *BAD.split(",")])
    sheet.append([None, None, None])  # row 5: cells without values
    sheet.cell(row=6, column=1).number_format = "@"  # row 6: a formatted cell, no value
    for column, value in enumerate(["m9", *BAD.split(",")], start=1):
        sheet.cell(row=9, column=column, value=value)  # rows 7 and 8 never written
    source = tmp_path / "meters.xlsx"
    book.save(source)
    rows, problems = await report_rows(pool, source)
    assert rows == [(2, "m2"), (4, "m4"), (9, "m9")] and problems == [4, 9]
