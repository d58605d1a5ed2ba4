"""The FIR spreadsheet export: the CPL's 13 columns plus the published FIR record, as xlsx or csv."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

from loaders import fir_export as sql
from loaders.db import Db
from resolvers.cpl_workbook import COLUMNS, CPL_DEVICE_TYPE_NAMES, Progress

FIR_COLUMNS: tuple[str, ...] = (
    "FIR.release_date",
    "FIR.release_notes",
    "FIR.upgradable_from_entries",
    "FIR.urgency",
    "FIR.advisories",
    "FIR.firmware_contact",
)
HEADER: tuple[str, ...] = COLUMNS + FIR_COLUMNS
CHUNK = 2000  # entries per query: bounded memory whatever the CPL's size
_STATUS_NAMES = {"CURRENT": "Current", "REMOVED": "Removed"}
LIST_SEPARATOR = ", "


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
            written = await _write_entries(db, sheet, progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return written


async def _write_entries(db: Db, sheet: _Sheet, progress: Progress | None) -> int:
    written = 0
    async with db.transaction() as tx:
        total = await sql.begin_snapshot(tx)
        after = 0
        while chunk := await sql.export_chunk(tx, after=after, limit=CHUNK):
            for row in chunk:
                sheet.write(fir_cells(row))
            written += len(chunk)
            after = chunk[-1].number
            if progress is not None:
                progress(written, total)
    if progress is not None and written == 0:
        progress(0, 0)
    return written


def version_octet(hardware_version: str) -> str:
    """The CPL prints the version octet without its leading zero (`0`, `1`) ..."""
    return hardware_version[:2].lstrip("0") or "0"


def revision_octet(hardware_version: str) -> str:
    """... and the revision octet with both digits (`AC`, `01`)."""
    return hardware_version[2:]


def firmware_contact(row: sql.FirExportRow) -> str | None:
    """`name <email> phone`, leaving out what the manufacturer has not given."""
    parts = [row.contact_name, f"<{row.contact_email}>" if row.contact_email else None, row.contact_phone]
    text = " ".join(p for p in parts if p)
    return text or None


def fir_cells(row: sql.FirExportRow) -> list[object]:
    """One entry in HEADER order; None is an empty cell."""
    return [
        row.cpl_version,
        row.number,
        _STATUS_NAMES[row.status],
        CPL_DEVICE_TYPE_NAMES[row.device_type],
        row.manufacturer_id,
        row.model_id,
        version_octet(row.hardware_version),
        revision_octet(row.hardware_version),
        row.model_id + row.hardware_version,
        row.firmware_version,
        row.smets_chts_version,
        row.gbcs_version,
        row.image_hash,
        row.release_date,
        row.release_notes,
        LIST_SEPARATOR.join(str(n) for n in row.upgradable_from) or None,
        row.urgency,
        LIST_SEPARATOR.join(row.advisories) or None,
        firmware_contact(row),
    ]


class _Sheet(Protocol):
    def write(self, cells: list[object]) -> None: ...


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
def _csv_writer(path: Path) -> Iterator[_Sheet]:
    # the BOM makes Excel read the file as UTF-8; the CPL importer accepts it too
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        yield _CsvSheet(handle)


@contextlib.contextmanager
def _xlsx_writer(path: Path) -> Iterator[_Sheet]:
    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet("FIR")
    yield _XlsxSheet(worksheet)
    workbook.save(path)


_WRITERS = {".xlsx": _xlsx_writer, ".csv": _csv_writer}
