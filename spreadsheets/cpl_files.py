"""CPL files at the edge: xlsx (openpyxl) and csv opened as rows of cells for resolvers.cpl_rows."""

from __future__ import annotations

import contextlib
import csv
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from loaders.rows import CplRow
from resolvers.cpl_rows import (
    HEADER_MIN_MATCHES,
    HEADER_SEARCH_ROWS,
    CplFileError,
    CplReader,
    Progress,
    RowProblem,
    header_columns,
)
from spreadsheets.cells import xlsx_value
from spreadsheets.xlsx_limits import WorkbookTooLarge, check_archive


@contextlib.contextmanager
def open_cpl(path: Path, *, progress: Progress | None = None) -> Iterator[CplReader]:
    """Open a CPL file by its suffix; raises CplFileError before any row is read if it is no CPL."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        with _xlsx_rows(path) as (rows, total):
            yield CplReader(rows, total, progress)
    elif suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield CplReader(_csv_rows(handle), None, progress)
    else:
        raise CplFileError(f"unsupported CPL file type {path.suffix!r}: expected .xlsx or .csv")


@dataclass(frozen=True, slots=True)
class CplFile:
    rows: list[CplRow]
    problems: list[RowProblem]
    rows_read: int


def read_cpl(path: Path, *, progress: Progress | None = None) -> CplFile:
    """The whole file in memory: for tests and small files; imports stream through open_cpl."""
    good: list[CplRow] = []
    problems: list[RowProblem] = []
    with open_cpl(path, progress=progress) as reader:
        for item in reader:
            if isinstance(item, CplRow):
                good.append(item)
            else:
                problems.append(item)
        return CplFile(good, problems, reader.rows_read)


def _csv_rows(handle: IO[str]) -> Iterator[Sequence[object]]:
    try:
        sample = handle.read(64 * 1024)
    except UnicodeDecodeError as exc:
        raise _not_utf8() from exc
    handle.seek(0)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;")
    except csv.Error:
        # too regular or too short to sniff: the delimiter that occurs more wins
        dialect = csv.excel if sample.count(",") >= sample.count(";") else _Semicolon
    return _guarded(csv.reader(handle, dialect))


def _guarded(reader: Any) -> Iterator[Sequence[object]]:
    """File-level faults (encoding, broken quoting) are the file's, not one row's: reject it."""
    try:
        yield from reader
    except UnicodeDecodeError as exc:
        raise _not_utf8() from exc
    except csv.Error as exc:
        raise CplFileError(f"unreadable csv near line {reader.line_num}: {exc}") from exc


def _not_utf8() -> CplFileError:
    return CplFileError("the csv file is not UTF-8 text: save it as 'CSV UTF-8'")


class _Semicolon(csv.excel):
    delimiter = ";"


# openpyxl warns about workbook features it drops (data validation, conditional formatting,
# missing styles); none of them touch cell values, so they are not the importer's concern.
_OPENPYXL_WARNINGS = r"openpyxl(\.|$)"
_XLSX_CHUNK = 500


@contextlib.contextmanager
def _quiet_openpyxl() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=_OPENPYXL_WARNINGS)
        yield


@contextlib.contextmanager
def _xlsx_rows(path: Path) -> Iterator[tuple[Iterator[Sequence[object]], int | None]]:
    try:
        check_archive(path)
        with _quiet_openpyxl():
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except WorkbookTooLarge as exc:
        raise CplFileError(f"{path.name} is not a CPL workbook: {exc}") from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise CplFileError(f"{path.name} is not a readable xlsx workbook") from exc
    try:
        sheet = _cpl_sheet(workbook)
        total = sheet.max_row
        # the stored dimension only estimates progress: files that understate it must not lose rows
        sheet.reset_dimensions()
        yield _quiet_rows(_cell_values(sheet.iter_rows(min_row=1))), total
    finally:
        workbook.close()


def _cell_values(rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[object]]:
    """Each row's values; a number shown in scientific notation as a ScientificNumber, since the
    code column it sits in cannot be read back from it (resolvers.cpl_codes)."""
    for cells in rows:
        yield tuple(xlsx_value(cell) for cell in cells)


def _cpl_sheet(workbook: Any) -> Any:
    """The first sheet whose top rows carry CPL column names (a cover sheet may come first)."""
    for sheet in workbook.worksheets:
        with _quiet_openpyxl():
            for values in sheet.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True):
                if len(header_columns(values)) >= HEADER_MIN_MATCHES:
                    return sheet
    return workbook.worksheets[0]


def _quiet_rows(rows: Iterator[Sequence[object]]) -> Iterator[Sequence[object]]:
    """Pull rows in chunks under the warning filter, which must not stay installed across yields."""
    while True:
        with _quiet_openpyxl():
            chunk = [row for _, row in zip(range(_XLSX_CHUNK), rows, strict=False)]
        yield from chunk
        if len(chunk) < _XLSX_CHUNK:
            return


@dataclass(frozen=True, slots=True)
class CplWorkbook:
    """A CPL file on disk, by its suffix: what resolvers.cpl_import.import_cpl reads."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def open(self, progress: Progress | None = None) -> contextlib.AbstractContextManager[CplReader]:
        return open_cpl(self.path, progress=progress)
