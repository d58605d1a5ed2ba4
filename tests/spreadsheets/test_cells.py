"""spreadsheets.cells: formula-like text leaves as text, and csv's defence reads back as what was written."""

from __future__ import annotations

import csv
import io

import duckdb
import openpyxl
import pytest

from spreadsheets.cells import FORMULA_START, csv_cell, csv_text_back, duckdb_csv_text, xlsx_row


@pytest.mark.parametrize(
    "text", ["=1+1", "+44 20 7946 0000", "-x", "@SUM(A1)", "\tx", "\rx", "'=x", "plain", ""]
)
def test_csv_cells_round_trip(text: str) -> None:
    written = csv_cell(text)
    assert isinstance(written, str)
    assert not written.lstrip("'").startswith(FORMULA_START) or written.startswith("'")
    assert csv_text_back(written) == text


def test_csv_leaves_other_values_alone() -> None:
    assert csv_cell(None) == "" and csv_cell(3) == 3 and csv_cell("'quoted") == "'quoted"


def test_duckdb_expression_matches_csv_cell() -> None:
    values = ["=1+1", "+44", "-x", "@x", "\tx", "\rx", "plain", "'=x", "'plain", ""]
    found = duckdb.sql(
        f"select {duckdb_csv_text('v')} from unnest(?::varchar[]) as t(v)", params=[values]
    ).fetchall()
    assert [row[0] for row in found] == [csv_cell(v) for v in values]


def test_xlsx_rows_keep_text_as_text() -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("t")
    plain = ("a", 1, None)
    assert xlsx_row(sheet, plain) is plain  # nothing to do: the row as it came
    sheet.append(xlsx_row(sheet, ["=1+1", "#N/A", "ok\x07", 2]))
    buffer = io.BytesIO()
    book.save(buffer)
    read = openpyxl.load_workbook(buffer).active
    cells = next(iter(read.iter_rows()))
    assert [c.value for c in cells] == ["=1+1", "#N/A", "ok", 2]
    assert [c.data_type for c in cells] == ["s", "s", "s", "n"]


def test_a_csv_reader_sees_one_field() -> None:
    """QUOTE_ALL: a `;` inside a field never splits it for a reader using `;` as the separator."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerow([csv_cell("Fixes x;=cmd|' /C calc'!A0"), 1])
    assert next(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";")) != [
        '"Fixes x',
        '=cmd|\' /C calc\'!A0","1"',
    ]
    assert buffer.getvalue().startswith('"Fixes x;=cmd')
