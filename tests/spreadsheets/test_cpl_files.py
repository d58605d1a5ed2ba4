"""Reading CPL files (xlsx, csv): header location, every column normalised, row-numbered problems, streaming."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from loaders.rows import CplRow
from resolvers import cpl_rows as wb
from resolvers.cpl_rows import COLUMNS, CplFileError, RowProblem
from spreadsheets.cpl_files import open_cpl, read_cpl
from tests.fixtures_cpl import (
    FAULTY_ROWS,
    HASH_1,
    HASH_23,
    MESSY_ROWS,
    REAL_ROWS,
    V2051,
    Row,
    generated_row,
    generated_rows,
    with_cell,
    write_cpl,
    write_csv,
    write_xlsx,
)

ENTRY_1 = CplRow(
    row_number=2,
    number=1,
    status="CURRENT",
    device_type="CHF",
    manufacturer_id="106C",
    model_id="4331",
    hardware_version="00AC",
    firmware_version="124074DA",
    smets_chts_version="CHTS V1.0",
    gbcs_version="GBCS Version 1.0",
    image_hash=HASH_1,
    cpl_version=V2051,
)
ENTRY_23 = CplRow(
    row_number=3,
    number=23,
    status="REMOVED",
    device_type="GSME",
    manufacturer_id="1063",
    model_id="4772",
    hardware_version="0101",
    firmware_version="03030236",
    smets_chts_version="SMETS V2.0",
    gbcs_version="GBCS Version 1.0",
    image_hash=HASH_23,
    cpl_version=V2051,
)


@pytest.mark.parametrize("rows", [REAL_ROWS, MESSY_ROWS], ids=["as-published", "messy"])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_real_rows_normalise(tmp_path: Path, rows: list[Row], suffix: str) -> None:
    path = tmp_path / f"cpl{suffix}"
    write_cpl(path, rows)
    cpl = read_cpl(path)
    assert cpl.problems == [] and cpl.rows == [ENTRY_1, ENTRY_23] and cpl.rows_read == 2


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_faulty_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path, suffix: str) -> None:
    rows = REAL_ROWS + [row for row, _ in FAULTY_ROWS] + [generated_row(950)]
    path = tmp_path / f"cpl{suffix}"
    # a title row and a blank row above the header, as SECAS publishes it
    if suffix == ".xlsx":
        write_xlsx(path, rows, title="Central Products List")
    else:
        write_csv(path, rows, title="Central Products List")
    header_row = 3 if suffix == ".xlsx" else 2
    cpl = read_cpl(path)

    first_faulty = header_row + 3
    assert [(p.row_number, p.column) for p in cpl.problems] == [
        (first_faulty + i, column) for i, (_, column) in enumerate(FAULTY_ROWS)
    ]
    assert [r.number for r in cpl.rows] == [1, 23, 950]
    assert cpl.rows[2].row_number == header_row + len(rows)
    assert "already given in row" in cpl.problems[-1].reason


def test_every_bad_cell_of_a_row_is_reported(tmp_path: Path) -> None:
    row = with_cell(with_cell(generated_row(5), wb.FIRMWARE, "zz"), wb.MODEL, "")
    cpl = read_cpl(write_csv(tmp_path / "cpl.csv", [row]))
    assert cpl.problems == [
        RowProblem(2, wb.MODEL, "missing 4 hex digits"),
        RowProblem(2, wb.FIRMWARE, "expected 8 hex digits, got 'zz'"),
    ]


def test_one_identity_under_two_numbers_is_a_bad_second_row(tmp_path: Path) -> None:
    twin = with_cell(generated_row(5), wb.NUMBER, 6)
    cpl = read_cpl(write_csv(tmp_path / "cpl.csv", [generated_row(5), twin]))
    assert [r.number for r in cpl.rows] == [5]
    assert cpl.problems == [RowProblem(3, wb.NUMBER, "same device identity as entry 5 in row 2")]


def test_header_is_found_without_case_spaces_or_order(tmp_path: Path) -> None:
    order = list(reversed(range(len(COLUMNS))))
    header = [" " + COLUMNS[i].upper().replace(".", ". ") + " " for i in order] + ["Notes"]
    rows = [[row[i] for i in order] + ["ignored"] for row in REAL_ROWS]
    cpl = read_cpl(write_csv(tmp_path / "cpl.csv", rows, header=header, delimiter=";"))
    assert cpl.problems == [] and cpl.rows == [ENTRY_1, ENTRY_23]


def test_optional_columns_may_be_missing(tmp_path: Path) -> None:
    keep = [i for i, c in enumerate(COLUMNS) if c in wb.REQUIRED]
    rows = [[row[i] for i in keep] for row in REAL_ROWS]
    cpl = read_cpl(write_csv(tmp_path / "cpl.csv", rows, header=[COLUMNS[i] for i in keep]))
    assert cpl.problems == [] and cpl.rows[0].cpl_version is None and cpl.rows[0].gbcs_version is None


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_missing_required_columns_are_named(tmp_path: Path, suffix: str) -> None:
    header = [c for c in COLUMNS if c not in (wb.IMAGE_HASH, wb.STATUS)]
    path = tmp_path / f"cpl{suffix}"
    write_cpl(path, [["x"] * len(header)], header=header)
    with pytest.raises(CplFileError) as caught:
        read_cpl(path)
    assert caught.value.message.endswith(f"lacks required columns: {wb.STATUS}, {wb.IMAGE_HASH}")
    assert caught.value.code == "BAD_USER_INPUT"


def test_a_file_without_a_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cpl.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CplFileError, match=r"no CPL header row found; missing columns: Entry\.number"):
        read_cpl(path)


def test_unreadable_files_are_refused_whole(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(",".join(COLUMNS).encode() + b"\n" + "Caf\u00e9".encode("cp1252") + b"\n")
    with pytest.raises(CplFileError, match="not UTF-8"):
        read_cpl(latin)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK not a zip")
    with pytest.raises(CplFileError, match="not a readable xlsx"):
        read_cpl(broken)


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CplFileError, match=r"\.ods"):
        read_cpl(tmp_path / "cpl.ods")


def test_the_cpl_sheet_is_found_behind_a_cover_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Central Products List", "cover page"])
    sheet = book.create_sheet("CPL")
    sheet.append(list(COLUMNS))
    for row in REAL_ROWS:
        sheet.append(row)
    book.save(tmp_path / "cpl.xlsx")
    assert read_cpl(tmp_path / "cpl.xlsx").rows == [ENTRY_1, ENTRY_23]


def rewrite_sheet(path: Path, change: tuple[bytes, bytes]) -> None:
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(*change)
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_an_understated_dimension_loses_no_rows(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(list(COLUMNS))
    for row in generated_rows(range(1, 6)):
        book.active.append(row)
    book.save(tmp_path / "cpl.xlsx")
    rewrite_sheet(tmp_path / "cpl.xlsx", (b'<dimension ref="A1:M6"', b'<dimension ref="A1:M2"'))
    assert [r.number for r in read_cpl(tmp_path / "cpl.xlsx").rows] == [1, 2, 3, 4, 5]


def test_openpyxl_warnings_do_not_escape(tmp_path: Path) -> None:
    """A cell openpyxl cannot read warns while rows stream; the test runs with warnings as errors."""
    book = openpyxl.Workbook()
    book.active.append([*COLUMNS, "Notes"])
    book.active.append([*REAL_ROWS[0], 10**12])
    book.active.cell(row=2, column=14).number_format = "yyyy-mm-dd"  # a date far beyond year 9999
    book.save(tmp_path / "cpl.xlsx")
    assert read_cpl(tmp_path / "cpl.xlsx").rows == [ENTRY_1]


def test_blank_rows_are_skipped_but_counted_in_row_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(list(COLUMNS))
    book.active.append(REAL_ROWS[0])
    book.active.append([])
    book.active.append([None, " "])
    book.active.append(with_cell(REAL_ROWS[1], wb.IMAGE_HASH, "bad"))
    book.save(tmp_path / "cpl.xlsx")
    cpl = read_cpl(tmp_path / "cpl.xlsx")
    assert cpl.rows_read == 2 and [p.row_number for p in cpl.problems] == [5]


def test_a_hundred_thousand_rows_stream(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cpl.csv", generated_rows(range(1, 100_001)))
    seen: list[tuple[int, int | None]] = []
    started = time.perf_counter()
    with open_cpl(path, progress=lambda done, total: seen.append((done, total))) as reader:
        good = sum(1 for item in reader if isinstance(item, CplRow))
    print(f"\n100,000-row csv read: {time.perf_counter() - started:.2f} s")
    assert good == 100_000 and len(seen) == 101
    assert seen[0] == (1000, None) and seen[-1] == (100_000, 100_000)


def test_a_code_excel_turned_into_scientific_notation_is_refused(tmp_path: Path) -> None:
    """Typed into a General cell, `1E02` becomes the number 100 shown as 1.00E+02 and `00001E05`
    the number 100000: zero-padding them would list 0100 and 00100000, codes nobody typed. A plain
    integer (0100 typed, 100 stored, format General) is still padded; a scientific entry number is
    just a number."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    rows = [
        with_cell(with_cell(generated_row(11), wb.MODEL, 100), wb.CONCATENATED, "01000102"),  # General
        with_cell(with_cell(generated_row(12), wb.MODEL, 100), wb.CONCATENATED, None),
        with_cell(generated_row(13), wb.FIRMWARE, 100000),
        with_cell(generated_row(14), wb.NUMBER, 14),
    ]
    for row in rows:
        sheet.append(row)
    model, firmware, number = (COLUMNS.index(c) + 1 for c in (wb.MODEL, wb.FIRMWARE, wb.NUMBER))
    sheet.cell(row=3, column=model).number_format = "0.00E+00"
    sheet.cell(row=4, column=firmware).number_format = "0E+00"
    sheet.cell(row=5, column=number).number_format = "0.00E+00"
    sheet.cell(row=2, column=firmware).number_format = '"E+"0'  # quoted text: not scientific
    workbook.save(tmp_path / "cpl.xlsx")

    cpl = read_cpl(tmp_path / "cpl.xlsx")
    assert [(p.row_number, p.column) for p in cpl.problems] == [(3, wb.MODEL), (4, wb.FIRMWARE)]
    assert "scientific notation (1.00E+02)" in cpl.problems[0].reason
    assert "format the column as Text" in cpl.problems[0].reason
    assert "(1.00E+05)" in cpl.problems[1].reason
    assert [(r.number, r.model_id) for r in cpl.rows] == [(11, "0100"), (14, "0000")]


@pytest.mark.parametrize("printed", ["1E+02", "1.00E+02", "1.00e-02"])
def test_a_csv_printed_from_such_a_cell_says_so(tmp_path: Path, printed: str) -> None:
    cpl = read_cpl(write_csv(tmp_path / "cpl.csv", [with_cell(generated_row(5), wb.MODEL, printed)]))
    [problem] = cpl.problems
    assert problem.column == wb.MODEL and f"scientific notation ({printed})" in problem.reason
