"""Reading a CPL workbook (xlsx or csv): header location, row normalisation, row-numbered problems."""

from __future__ import annotations

import contextlib
import csv
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

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
# Without these a row cannot become a CPL entry; the others are informative or a cross-check.
REQUIRED: tuple[str, ...] = (
    NUMBER,
    STATUS,
    DEVICE_TYPE,
    MANUFACTURER,
    MODEL,
    HW_VERSION,
    HW_REVISION,
    FIRMWARE,
    IMAGE_HASH,
)

# How the CPL names device types; the export prints these back.
CPL_DEVICE_TYPE_NAMES: dict[str, str] = {
    "ESME": "Electricity Smart Meter",
    "GSME": "Gas Smart Meter",
    "CHF": "Communications Hub",
    "GPF": "Gas Proxy Function",
    "PPMID": "PPMID",
    "HCALCS": "HCALCS",
    "IHD": "IHD",
    "CAD": "CAD",
}
_DEVICE_TYPE_ALIASES: dict[str, str] = {
    "electricity smart meter": "ESME",
    "gas smart meter": "GSME",
    "communications hub": "CHF",
    "communications hub function": "CHF",
    "comms hub": "CHF",
    "gas proxy function": "GPF",
    "prepayment meter interface device": "PPMID",
    "han connected auxiliary load control switch": "HCALCS",
    "in home display": "IHD",
    "consumer access device": "CAD",
    **{code.lower(): code for code in CPL_DEVICE_TYPE_NAMES},
}
_STATUSES = {"CURRENT": "CURRENT", "REMOVED": "REMOVED"}

HEADER_SEARCH_ROWS = 50  # title rows above the header are common; a header further down is not a CPL
_HEADER_MIN_MATCHES = 3  # one stray "Version" title cell must not pass for the header
_PROGRESS_EVERY = 1000
_MAX_NUMBER = 2**31 - 1

_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-F]+")
_WHITESPACE = re.compile(r"\s+")
_SEPARATED_OCTETS = re.compile(r"[0-9A-F]{1,2}(?:[.:\- ][0-9A-F]{1,2}){3}")
_OCTET_SEPARATOR = re.compile(r"[.:\- ]")
_CODE_IN_PARENS = re.compile(r"\(([A-Za-z]+)\)\s*$")
_INTEGRAL = re.compile(r"([0-9]+)(?:\.0*)?")
_POINT_ZERO = re.compile(r"([0-9]+)\.0+")


@dataclass(frozen=True, slots=True)
class CplRow:
    """One good CPL row, normalised: upper-case hex of fixed width, enum codes, trimmed text."""

    row_number: int
    number: int
    status: str
    device_type: str
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    smets_chts_version: str | None
    gbcs_version: str | None
    image_hash: str
    cpl_version: str | None

    @property
    def identity_key(self) -> str:
        return self.manufacturer_id + self.model_id + self.hardware_version + self.firmware_version


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


# --- cell values ------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as trimmed text; integral floats (xlsx stores every number as one) lose their `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _code_text(value: object) -> str:
    """Upper-case text of a hex code; `1.0` is a number a csv export printed as a float."""
    text = cell_text(value).upper()
    integral = _POINT_ZERO.fullmatch(text)
    return integral.group(1) if integral else text


def _hex_number(text: str, digits: int) -> str | None:
    """Fixed-width hex; a short all-decimal value is left-padded, since that is exactly what a
    spreadsheet leaves of a hex code it took for a number (03030236 -> 3030236)."""
    if text.startswith("0X"):
        # an explicit hex literal is a number too: padding it on the left cannot change it
        text = text[2:]
        return text.zfill(digits) if 0 < len(text) <= digits and _HEX.fullmatch(text) else None
    if len(text) == digits and _HEX.fullmatch(text):
        return text
    if 0 < len(text) < digits and _DIGITS.fullmatch(text):
        return text.zfill(digits)
    return None


def hex_field(value: object, digits: int) -> str | None:
    return _hex_number(_code_text(value), digits)


def octet(value: object) -> str | None:
    """One hardware octet: the CPL prints 1 or 2 hex digits (version `0`, revision `AC`)."""
    text = _code_text(value).removeprefix("0X")
    return text.zfill(2) if 0 < len(text) <= 2 and _HEX.fullmatch(text) else None


def firmware_version(value: object) -> str | None:
    """8 hex digits, BCD- or hex-coded alike (both are stored as the 4 octets the device reports).

    Also accepted, because each has one reading: a `0x` prefix; four separated octets of 1-2
    digits (`12.40.74.DA`, `3.3.2.36`); a decimal value shorter than 8 digits (leading zeros
    lost in a spreadsheet). Rejected as ambiguous: other dotted forms (`1.2.3`), 3-digit groups,
    short values containing hex letters.
    """
    # not _code_text: "1.0" as firmware text may be a dotted version, so it stays ambiguous
    text = cell_text(value).upper()
    if _SEPARATED_OCTETS.fullmatch(text):
        return "".join(part.zfill(2) for part in _OCTET_SEPARATOR.split(text))
    return _hex_number(text, 8)


def image_hash(value: object) -> str | None:
    text = _WHITESPACE.sub("", cell_text(value)).upper().removeprefix("0X")
    return text if len(text) == 64 and _HEX.fullmatch(text) else None


def device_type(value: object) -> str | None:
    """A device type code from its CPL name, a known alias, or the code itself."""
    text = cell_text(value)
    in_parens = _CODE_IN_PARENS.search(text)
    if in_parens and in_parens.group(1).upper() in CPL_DEVICE_TYPE_NAMES:
        return in_parens.group(1).upper()
    key = _WHITESPACE.sub(" ", text.replace("-", " ").replace("_", " ")).strip().lower()
    return _DEVICE_TYPE_ALIASES.get(key)


def entry_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    match = _INTEGRAL.fullmatch(cell_text(value))
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number <= _MAX_NUMBER else None


def optional_text(value: object) -> str | None:
    return cell_text(value) or None


# --- one row ----------------------------------------------------------------------------------


class _RowParser:
    """Normalises the cells of one row, collecting a problem per bad cell."""

    def __init__(self, row_number: int, cells: dict[str, object]) -> None:
        self.row_number = row_number
        self.cells = cells
        self.problems: list[RowProblem] = []

    def take(self, column: str, convert: Callable[[object], Any], expected: str) -> Any:
        raw = self.cells.get(column)
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
    status = p.take(STATUS, lambda v: _STATUSES.get(cell_text(v).upper()), "status Current or Removed")
    dtype = p.take(DEVICE_TYPE, device_type, "a CPL device type")
    manufacturer = p.take(MANUFACTURER, lambda v: hex_field(v, 4), "4 hex digits")
    model = p.take(MODEL, lambda v: hex_field(v, 4), "4 hex digits")
    version = p.take(HW_VERSION, octet, "1 or 2 hex digits")
    revision = p.take(HW_REVISION, octet, "1 or 2 hex digits")
    firmware = p.take(FIRMWARE, firmware_version, "8 hex digits")
    hash_ = p.take(IMAGE_HASH, image_hash, "64 hex digits (SHA-256)")
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
    printed = hex_field(raw, 8)
    if printed != expected:
        p.problem(CONCATENATED, f"{cell_text(raw)!r} does not match model and hardware version {expected}")


# --- the file ---------------------------------------------------------------------------------


def _header_columns(values: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        name = _KEYS.get(header_key(value)) if isinstance(value, str) else None
        if name is not None and name not in found:
            found[name] = index
    return found


def _is_blank(values: Sequence[object]) -> bool:
    return all(cell_text(v) == "" for v in values)


class CplReader:
    """An open CPL file: the header is checked on opening, data rows stream on iteration."""

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
            columns = _header_columns(values)
            if len(columns) >= _HEADER_MIN_MATCHES:
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
        with _quiet_openpyxl():
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise CplFileError(f"{path.name} is not a readable xlsx workbook") from exc
    try:
        sheet = _cpl_sheet(workbook)
        total = sheet.max_row
        # the stored dimension only estimates progress: files that understate it must not lose rows
        sheet.reset_dimensions()
        yield _quiet_rows(sheet.iter_rows(min_row=1, values_only=True)), total
    finally:
        workbook.close()


def _cpl_sheet(workbook: Any) -> Any:
    """The first sheet whose top rows carry CPL column names (a cover sheet may come first)."""
    for sheet in workbook.worksheets:
        with _quiet_openpyxl():
            for values in sheet.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True):
                if len(_header_columns(values)) >= _HEADER_MIN_MATCHES:
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
