"""CPL files for tests: the two real v2.051 rows as the CPL prints them, generated rows, faulty rows."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl

from resolvers.cpl_rows import (
    COLUMNS,
    CONCATENATED,
    DEVICE_TYPE,
    FIRMWARE,
    IMAGE_HASH,
    MANUFACTURER,
    NUMBER,
    STATUS,
    VERSION,
)

Cell = str | int | float | None
Row = list[Cell]

V2051 = "Version 2.051 Issued on 21-09-2022"
HASH_1 = "137ED5BC81A21F6D2187BC380381AEA7705BF65D3E4DAEA28EFD44113079D5E9"
HASH_23 = "DDF62A640765028BA5C8412F864EF09D6D0508A90849017D0232F663460200A5"

# As published, trailing spaces included.
REAL_ROWS: list[Row] = [
    [V2051, 1, "Current", "Communications Hub", "106C", "4331", "0", "AC", "433100AC", "124074DA",
     "CHTS V1.0 ", "GBCS Version 1.0 ", HASH_1],
    [V2051, 23, "Removed", "Gas Smart Meter", "1063", "4772", "1", "01", "47720101", "03030236",
     "SMETS V2.0 ", "GBCS Version 1.0 ", HASH_23],
]  # fmt: skip

# The same rows as a messier file carries them: lower-case hex, spaces, xlsx numbers, 0x prefix.
MESSY_ROWS: list[Row] = [
    [" " + V2051 + " ", 1.0, "current ", "communications hub ", "106c ", "4331", 0, "ac", "433100ac ",
     "0x124074da", "CHTS V1.0 ", "GBCS Version 1.0 ", HASH_1.lower() + " "],
    [V2051, "23", "REMOVED", "Gas Smart Meter", 1063, 4772, 1.0, 1, 47720101, 3030236,
     "SMETS V2.0", "GBCS Version 1.0", HASH_23],
]  # fmt: skip


def fake_hash(seed: object) -> str:
    return hashlib.sha256(str(seed).encode()).hexdigest().upper()


def generated_row(
    number: int, *, version: str = V2051, status: str = "Current", manufacturer: str = "1234"
) -> Row:
    """A well-formed ESME row; the firmware version encodes the number so identities never clash."""
    model = f"{number // 1000:04X}"
    return [version, number, status, "Electricity Smart Meter", manufacturer, model, "1", "02",
            model + "0102", f"{number:08X}", "SMETS V2.0", "GBCS Version 2.0", fake_hash(number)]  # fmt: skip


def generated_rows(numbers: Iterable[int], **kwargs: str) -> list[Row]:
    return [generated_row(n, **kwargs) for n in numbers]


def with_cell(row: Row, column: str, value: Cell) -> Row:
    changed = list(row)
    changed[COLUMNS.index(column)] = value
    return changed


# (row, the column the problem must name): each a realistic fault, all on entry numbers 900+.
FAULTY_ROWS: list[tuple[Row, str]] = [
    (with_cell(generated_row(901), FIRMWARE, "12G074DA"), FIRMWARE),
    (with_cell(generated_row(902), IMAGE_HASH, None), IMAGE_HASH),
    (with_cell(generated_row(903), STATUS, "Pending"), STATUS),
    (with_cell(generated_row(904), DEVICE_TYPE, "Water Meter"), DEVICE_TYPE),
    (with_cell(generated_row(905), CONCATENATED, "00000103"), CONCATENATED),
    (with_cell(generated_row(906), MANUFACTURER, "10 6C"), MANUFACTURER),
    (with_cell(generated_row(1), VERSION, "duplicate number 1"), NUMBER),
]


def write_xlsx(
    path: Path, rows: Sequence[Row], *, header: Sequence[str] = COLUMNS, title: str | None = None
) -> Path:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("CPL")
    if title is not None:
        sheet.append([title])
        sheet.append([])
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(
    path: Path,
    rows: Sequence[Row],
    *,
    header: Sequence[str] = COLUMNS,
    delimiter: str = ",",
    title: str | None = None,
) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        if title is not None:
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def write_cpl(path: Path, rows: Sequence[Row], *, header: Sequence[str] = COLUMNS) -> Path:
    """By suffix, like the importer."""
    if path.suffix == ".xlsx":
        return write_xlsx(path, rows, header=header)
    return write_csv(path, rows, header=header)
