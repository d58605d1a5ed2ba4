"""Cells in and out of spreadsheets: text a manufacturer or a caller wrote is never run as a formula,
and a number a workbook shows in scientific notation is read as one.

A spreadsheet program opening a csv runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return as a formula (CSV injection, OWASP); openpyxl stores a str starting with `=` as a
formula and one that is an error code (`#N/A`) as an error. Contact names, release notes and the refs
of a fleet file are such text, and suppliers open these files.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

from resolvers.cpl_codes import ScientificNumber

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_SPECIAL = ("=", "#")  # openpyxl's formulas and every error code
# a number format that shows scientific notation (0.00E+00, ##0.0E+0), its quoted text aside
_SCIENTIFIC_FORMAT = re.compile(r"E[+-]", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"')


def _formula_like(text: str) -> bool:
    """Starts with a formula start, after any apostrophes: those are written behind one more, so that
    reading one back (csv_text_back) is never ambiguous ("'=x" was "'=x", not "=x")."""
    return text.lstrip("'").startswith(FORMULA_START)


def csv_cell(value: object) -> object:
    """For csv.writer: None as empty, formula-like text behind an apostrophe (OWASP's advice)."""
    if value is None:
        return ""
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def csv_text_back(value: str) -> str:
    """The text csv_cell wrote, read back: the apostrophe it added dropped, so `fir verify export`
    compares what was exported, not the defence."""
    if value.startswith("'") and _formula_like(value[1:]):
        return value[1:]
    return value


def duckdb_csv_text(column: str) -> str:
    """csv_cell as a DuckDB expression over a varchar column (a fleet report's csv tables)."""
    starts = ", ".join("'" + c + "'" if c.isprintable() else f"chr({ord(c)})" for c in FORMULA_START)
    return f"case when left(ltrim({column}, ''''), 1) in ({starts}) then '''' || {column} else {column} end"


def xlsx_cell(worksheet: Any, value: object) -> object:
    """For a write-only worksheet's append: text stays text (control characters, which xlsx XML
    cannot hold, dropped); anything else as it is."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.startswith("=") or text in ERROR_CODES:
        cell = WriteOnlyCell(worksheet, value=text)
        cell.data_type = "s"
        return cell
    return text


def xlsx_row(worksheet: Any, values: Any) -> Any:
    """A row for append, untouched unless a cell needs xlsx_cell (one check a text cell: rows of a
    million-device report stream through here)."""
    for value in values:
        if isinstance(value, str) and (
            value.startswith(_XLSX_SPECIAL) or ILLEGAL_CHARACTERS_RE.search(value)
        ):
            return [xlsx_cell(worksheet, v) for v in values]
    return values


def xlsx_value(cell: Any) -> object:
    """A workbook cell's value; a number its format shows in scientific notation as a ScientificNumber:
    Excel makes one of a code typed as `1E02` or `00001E05`, and the code cannot be read back from it
    (resolvers.cpl_codes)."""
    value = cell.value
    if type(value) in (int, float) and _SCIENTIFIC_FORMAT.search(_QUOTED.sub("", cell.number_format or "")):
        return ScientificNumber(value)
    return value
