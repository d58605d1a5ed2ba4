"""From a CPL's rows of cells to normalised CplRows: header location, row parsing, duplicates, problems.

No file I/O here: the files are opened at the edge (spreadsheets/cpl_files.py), which hands in rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from loaders.rows import CplRow
from resolvers.cpl_codes import (
    SCIENTIFIC_REASON,
    cell_text,
    cpl_status,
    device_type,
    entry_number,
    firmware_version,
    hex_field,
    image_hash,
    octet,
    optional_text,
    scientific,
    shown_text,
)
from resolvers.errors import BadUserInput

Progress = Callable[[int, int | None], None]

VERSION = "Version"
NUMBER = "Entry.number"
STATUS = "Entry.status"
DEVICE_TYPE = "Device_Type.name"
MANUFACTURER = "Device_Model.manufacturer_identifier"
MODEL = "Device_Model.model_identifier"
HW_VERSION = "Device_Model.hardware_version.version"
HW_REVISION = "Device_Model.hardware_version.revision"
CONCATENATED = "Device_Model.model_identifier_concatenated_with_hardware_version"
FIRMWARE = "Device_Model.firmware_version"
SMETS_CHTS = "SMETS_CHTS Version.Version_number_and_effective_date"
GBCS = "GBCS Version.version_number"
IMAGE_HASH = "Manufacturer_Image.hash"

# The CPL's column order, which the FIR export repeats.
COLUMNS: tuple[str, ...] = (
    VERSION,
    NUMBER,
    STATUS,
    DEVICE_TYPE,
    MANUFACTURER,
    MODEL,
    HW_VERSION,
    HW_REVISION,
    CONCATENATED,
    FIRMWARE,
    SMETS_CHTS,
    GBCS,
    IMAGE_HASH,
)
# Without the others a row cannot become a CPL entry; these are informative or a cross-check.
INFORMATIVE: tuple[str, ...] = (VERSION, CONCATENATED, SMETS_CHTS, GBCS)
REQUIRED: tuple[str, ...] = tuple(name for name in COLUMNS if name not in INFORMATIVE)

HEADER_SEARCH_ROWS = 50  # title rows above the header are common; a header further down is not a CPL
HEADER_MIN_MATCHES = 3  # one stray "Version" title cell must not pass for the header
_PROGRESS_EVERY = 1000
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row (spreadsheet numbering: 1-based, header included) was left out."""

    row_number: int
    column: str
    reason: str


class CplFileError(BadUserInput):
    """The file as a whole cannot be read as a CPL: unsupported type or missing columns."""


def header_key(name: str) -> str:
    """Column names compare without case or spaces: real files vary in both."""
    return _WHITESPACE.sub("", name).lower()


_KEYS = {header_key(name): name for name in COLUMNS}


# --- one row ----------------------------------------------------------------------------------


class _RowParser:
    """Normalises the cells of one row, collecting a problem per bad cell."""

    def __init__(self, row_number: int, cells: dict[str, object]) -> None:
        self.row_number = row_number
        self.cells = cells
        self.problems: list[RowProblem] = []

    def take(
        self, column: str, convert: Callable[[object], Any], expected: str, *, code: bool = False
    ) -> Any:
        """The converted cell, or None with a problem. A `code` (hex) column refuses a number in
        scientific notation, whatever it converts to: what was typed is lost (ScientificNumber)."""
        raw = self.cells.get(column)
        if code and scientific(raw):
            self.problem(column, SCIENTIFIC_REASON.format(shown=shown_text(raw)))
            return None
        value = convert(raw)
        if value is None:
            shown = cell_text(raw)
            reason = f"missing {expected}" if not shown else f"expected {expected}, got {shown!r}"
            self.problems.append(RowProblem(self.row_number, column, reason))
        return value

    def problem(self, column: str, reason: str) -> None:
        self.problems.append(RowProblem(self.row_number, column, reason))


def parse_row(row_number: int, cells: dict[str, object]) -> CplRow | list[RowProblem]:
    """One data row as a CplRow, or every problem found in it."""
    p = _RowParser(row_number, cells)
    number = p.take(NUMBER, entry_number, "a positive whole entry number")
    status = p.take(STATUS, cpl_status, "status Current or Removed")
    dtype = p.take(DEVICE_TYPE, device_type, "a CPL device type")
    manufacturer = p.take(MANUFACTURER, lambda v: hex_field(v, 4), "4 hex digits", code=True)
    model = p.take(MODEL, lambda v: hex_field(v, 4), "4 hex digits", code=True)
    version = p.take(HW_VERSION, octet, "1 or 2 hex digits", code=True)
    revision = p.take(HW_REVISION, octet, "1 or 2 hex digits", code=True)
    firmware = p.take(FIRMWARE, firmware_version, "8 hex digits", code=True)
    hash_ = p.take(IMAGE_HASH, image_hash, "64 hex digits (SHA-256)", code=True)
    if model and version and revision:
        _cross_check(p, model + version + revision)
    if p.problems:
        return p.problems
    return CplRow(
        row_number=row_number,
        number=number,
        status=status,
        device_type=dtype,
        manufacturer_id=manufacturer,
        model_id=model,
        hardware_version=version + revision,
        firmware_version=firmware,
        smets_chts_version=optional_text(cells.get(SMETS_CHTS)),
        gbcs_version=optional_text(cells.get(GBCS)),
        image_hash=hash_,
        cpl_version=optional_text(cells.get(VERSION)),
    )


def _cross_check(p: _RowParser, expected: str) -> None:
    """The printed model+hardware column must agree with its parts: disagreement means a typo."""
    raw = p.cells.get(CONCATENATED)
    if not cell_text(raw):
        return
    if scientific(raw):
        p.problem(CONCATENATED, SCIENTIFIC_REASON.format(shown=shown_text(raw)))
        return
    printed = hex_field(raw, 8)
    if printed != expected:
        p.problem(CONCATENATED, f"{cell_text(raw)!r} does not match model and hardware version {expected}")


# --- the rows ---------------------------------------------------------------------------------


def header_columns(values: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        name = _KEYS.get(header_key(value)) if isinstance(value, str) else None
        if name is not None and name not in found:
            found[name] = index
    return found


def _is_blank(values: Sequence[object]) -> bool:
    return all(cell_text(v) == "" for v in values)


class CplReader:
    """A CPL's rows: the header is checked on construction, data rows stream on iteration."""

    def __init__(self, rows: Iterator[Sequence[object]], total_rows: int | None, progress: Progress | None):
        self._rows = rows
        self._progress = progress
        self.rows_read = 0
        self.header_row, self.columns = self._find_header()
        self.total = None if total_rows is None else max(total_rows - self.header_row, 0)
        self._numbers: dict[int, int] = {}
        self._identities: dict[str, tuple[int, int]] = {}

    def _find_header(self) -> tuple[int, dict[str, int]]:
        best: dict[str, int] = {}
        for row_number, values in enumerate(self._rows, start=1):
            columns = header_columns(values)
            if len(columns) >= HEADER_MIN_MATCHES:
                missing = [name for name in REQUIRED if name not in columns]
                if missing:
                    raise CplFileError(
                        f"CPL header row {row_number} lacks required columns: {', '.join(missing)}"
                    )
                return row_number, columns
            best = max(best, columns, key=len)
            if row_number >= HEADER_SEARCH_ROWS:
                break
        missing = [name for name in REQUIRED if name not in best]
        raise CplFileError(f"no CPL header row found; missing columns: {', '.join(missing)}")

    def __iter__(self) -> Iterator[CplRow | RowProblem]:
        done = 0
        for row_number, values in enumerate(self._rows, start=self.header_row + 1):
            done += 1
            if self._progress is not None and done % _PROGRESS_EVERY == 0:
                self._progress(done, self.total)
            if _is_blank(values):
                continue
            self.rows_read += 1
            yield from self._checked(row_number, values)
        if self._progress is not None:
            self._progress(done, done)

    def _checked(self, row_number: int, values: Sequence[object]) -> Iterator[CplRow | RowProblem]:
        cells = {name: values[i] if i < len(values) else None for name, i in self.columns.items()}
        parsed = parse_row(row_number, cells)
        number = entry_number(cells.get(NUMBER))
        duplicate = self._duplicate_number(row_number, number)
        if isinstance(parsed, list):
            yield from parsed
            if duplicate:
                yield duplicate
            return
        problem = duplicate or self._duplicate_identity(parsed)
        yield problem if problem else parsed

    def _duplicate_number(self, row_number: int, number: int | None) -> RowProblem | None:
        if number is None:
            return None
        first = self._numbers.setdefault(number, row_number)
        if first == row_number:
            return None
        return RowProblem(row_number, NUMBER, f"entry number {number} already given in row {first}")

    def _duplicate_identity(self, row: CplRow) -> RowProblem | None:
        """One device identity has one CPL entry; a second number for it is a conflict."""
        first = self._identities.setdefault(row.identity_key, (row.row_number, row.number))
        if first[0] == row.row_number:
            return None
        return RowProblem(
            row.row_number, NUMBER, f"same device identity as entry {first[1]} in row {first[0]}"
        )


class CplSource(Protocol):
    """A CPL the edge can open as rows (spreadsheets.cpl_files.CplWorkbook reads xlsx and csv)."""

    @property
    def name(self) -> str: ...

    def open(self, progress: Progress | None = None) -> AbstractContextManager[CplReader]: ...
