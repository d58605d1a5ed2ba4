"""The FIR spreadsheet at the edge: resolvers.fir_export's rows written as xlsx (openpyxl) or csv."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

from loaders.db import Db
from resolvers.cpl_rows import Progress
from resolvers.fir_export import HEADER, Sheet, export_rows


async def export_fir(db: Db, path: Path, progress: Progress | None = None) -> int:
    """Write the FIR spreadsheet to `path` (.xlsx or .csv), one row per CPL entry; rows written.

    The file appears complete or not at all: it is written beside `path` and renamed into place.
    """
    opener = _WRITERS.get(path.suffix.lower())
    if opener is None:
        raise ValueError(f"unsupported export file type {path.suffix!r}: expected .xlsx or .csv")
    partial = path.with_name(f".{path.name}.partial")
    try:
        with opener(partial) as sheet:
            sheet.write(list(HEADER))
            written = await export_rows(db, sheet, progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return written


class _CsvSheet:
    # A spreadsheet opening the csv would run a cell starting with one of these as a formula;
    # manufacturers write the release notes, so a leading apostrophe defuses them (OWASP advice).
    _FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

    def __init__(self, handle: Any) -> None:
        self._writer = csv.writer(handle)

    def write(self, cells: list[object]) -> None:
        self._writer.writerow([self._cell(c) for c in cells])

    def _cell(self, value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, str) and value.startswith(self._FORMULA_START):
            return "'" + value
        return value


class _XlsxSheet:
    def __init__(self, worksheet: Any) -> None:
        self._worksheet = worksheet

    def write(self, cells: list[object]) -> None:
        self._worksheet.append([self._cell(c) for c in cells])

    def _cell(self, value: object) -> object:
        if not isinstance(value, str):
            return value
        # control characters are not allowed in xlsx XML: openpyxl would raise on them
        text: str = ILLEGAL_CHARACTERS_RE.sub("", value)
        if text.startswith("=") or text in ERROR_CODES:
            # openpyxl turns such text into a formula or an error value; it is text here
            cell = WriteOnlyCell(self._worksheet, value=text)
            cell.data_type = "s"
            return cell
        return text


@contextlib.contextmanager
def _csv_writer(path: Path) -> Iterator[Sheet]:
    # the BOM makes Excel read the file as UTF-8; the CPL importer accepts it too
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        yield _CsvSheet(handle)


@contextlib.contextmanager
def _xlsx_writer(path: Path) -> Iterator[Sheet]:
    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet("FIR")
    yield _XlsxSheet(worksheet)
    workbook.save(path)


_WRITERS = {".xlsx": _xlsx_writer, ".csv": _csv_writer}
