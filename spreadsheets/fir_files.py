"""The FIR spreadsheet at the edge: resolvers.fir_export's rows written as xlsx (openpyxl) or csv."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openpyxl

from loaders.db import Db
from resolvers.cpl_rows import Progress
from resolvers.fir_export import HEADER, FirSnapshot, Sheet, export_rows
from spreadsheets.atomic import replaced_atomically
from spreadsheets.cells import csv_cell, csv_text_back, xlsx_cell

STREAM_CHUNK = 64 * 1024  # bytes per chunk of a download
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def export_fir(db: Db, path: Path, progress: Progress | None = None) -> int:
    """Write the FIR spreadsheet to `path` (.xlsx or .csv), one row per CPL entry; rows written.

    The file appears complete or not at all: it is written beside `path` and renamed into place.
    """
    opener = _WRITERS.get(path.suffix.lower())
    if opener is None:
        raise ValueError(f"unsupported export file type {path.suffix!r}: expected .xlsx or .csv")
    with replaced_atomically(path) as partial, opener(partial) as sheet:
        sheet.write(list(HEADER))
        written = await export_rows(db, sheet, progress)
    return written


class _CsvSheet:
    def __init__(self, handle: Any) -> None:
        # every field quoted: a spreadsheet reading `;` as the separator (German, French locales)
        # could otherwise split a note at a `;` and find a formula start after it
        self._writer = csv.writer(handle, quoting=csv.QUOTE_ALL)

    def write(self, cells: list[object]) -> None:
        self._writer.writerow([csv_cell(c) for c in cells])


class _XlsxSheet:
    def __init__(self, worksheet: Any) -> None:
        self._worksheet = worksheet

    def write(self, cells: list[object]) -> None:
        self._worksheet.append([xlsx_cell(self._worksheet, c) for c in cells])


@contextlib.contextmanager
def _csv_writer(path: Path) -> Iterator[Sheet]:
    # the BOM makes Excel read the file as UTF-8; the CPL importer accepts it too
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        yield _CsvSheet(handle)


def _xlsx_workbook() -> tuple[Any, _XlsxSheet]:
    workbook = openpyxl.Workbook(write_only=True)
    return workbook, _XlsxSheet(workbook.create_sheet("FIR"))


@contextlib.contextmanager
def _xlsx_writer(path: Path) -> Iterator[Sheet]:
    workbook, sheet = _xlsx_workbook()
    yield sheet
    workbook.save(path)


_WRITERS = {".xlsx": _xlsx_writer, ".csv": _csv_writer}


# --- downloads ------------------------------------------------------------------------------------


async def csv_stream(snap: FirSnapshot) -> AsyncIterator[bytes]:
    """The csv in chunks as the snapshot yields its rows: nothing waits for the whole file."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM, as in the file `fir export` writes
    sheet = _CsvSheet(buffer)
    sheet.write(list(HEADER))
    async for cells in snap.rows():
        sheet.write(cells)
        if buffer.tell() >= STREAM_CHUNK:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


async def xlsx_stream(snap: FirSnapshot) -> AsyncIterator[bytes]:
    """An xlsx is a zip whose directory comes last, so it is built in a temporary file (openpyxl's
    write-only mode keeps memory bounded) and then streamed from there."""
    with tempfile.TemporaryFile() as handle:
        workbook, sheet = _xlsx_workbook()
        sheet.write(list(HEADER))
        async for cells in snap.rows():
            sheet.write(cells)
        await asyncio.to_thread(workbook.save, handle)
        handle.seek(0)
        while chunk := handle.read(STREAM_CHUNK):
            yield chunk


STREAMS = {"csv": csv_stream, "xlsx": xlsx_stream}


class NotAnExport(ValueError):
    """What no exported FIR spreadsheet holds: a formula, or a sheet besides FIR."""


def _value(cell: Any) -> object:
    """A cell as the export wrote it. A formula is refused: Excel shows what it computes on opening,
    while the value saved beside it (what data_only reads) could be the genuine one, so a tampered
    image hash would verify."""
    if cell.data_type == "f":
        raise NotAnExport(f"cell {cell.coordinate} holds a formula; an exported FIR spreadsheet holds none")
    return cell.value


def read_fir_rows(path: Path) -> Iterator[dict[str, object]]:
    """The rows of an exported FIR spreadsheet (csv or xlsx), keyed by its header, for `fir verify export`."""
    if path.suffix.lower() == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
        rows: Any = iter(())
        try:
            if book.sheetnames != ["FIR"]:
                raise NotAnExport(f"sheets {book.sheetnames}: an exported FIR spreadsheet has one, FIR")
            rows = book["FIR"].iter_rows()
            header = [str(cell.value) for cell in next(rows, ())]
            for cells in rows:
                yield dict(zip(header, (_value(cell) for cell in cells), strict=False))
        finally:
            # the sheet's reader first: left suspended (a formula refused mid-sheet), it holds the
            # file open past the book's close until the collector finds it
            if hasattr(rows, "close"):
                rows.close()
            book.close()
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {k: csv_text_back(v) if isinstance(v, str) else v for k, v in row.items()}
