"""An uploaded xlsx is a zip of XML: checked before openpyxl opens it, and read within bounds.

openpyxl's read-only mode streams the sheet but loads the shared strings whole, pads every row to the
width the sheet declares (`<dimension ref="A1:XFD2000"/>`: 16,384 cells a row) and fills row-number
gaps with empty rows (`<row r="20000000">`). A few kilobytes can so ask for gigabytes of memory or
disk. The limits below are far above what a real workbook needs (a 1,048,576-row fleet's shared
strings are some 40 MB) and far below what would harm the gateway.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

MAX_ROWS = 1_048_576  # what an xlsx sheet can hold
MAX_COLUMNS = 256  # cells of a row read; a fleet file needs six
MAX_UNCOMPRESSED = 2 * 1024**3  # bytes of XML in the whole archive
MAX_SHARED_STRINGS = 256 * 1024**2  # bytes of xl/sharedStrings.xml, which openpyxl holds in memory
MAX_RATIO = 200  # uncompressed over compressed, for a member of over a megabyte (real sheets: 5-20)
_RATIO_FROM = 1024**2


class WorkbookTooLarge(ValueError):
    """The archive asks for more than the limits; the message says which."""


def check_archive(path: Path) -> None:
    """WorkbookTooLarge when the zip declares more XML than a workbook may hold (sizes from its
    directory, before anything is decompressed); a file that is no zip is left to openpyxl to refuse."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise WorkbookTooLarge(
            f"the workbook holds {total:,} bytes of XML; the limit is {MAX_UNCOMPRESSED:,}"
        )
    for member in members:
        if member.filename.lower().endswith("sharedstrings.xml") and member.file_size > MAX_SHARED_STRINGS:
            raise WorkbookTooLarge(
                f"the workbook's shared strings are {member.file_size:,} bytes; the limit is {MAX_SHARED_STRINGS:,}"
            )
        if member.file_size > _RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise WorkbookTooLarge(
                f"{member.filename} is compressed over {MAX_RATIO} times, as no workbook is"
            )


def bounded_rows(sheet: Any) -> Iterator[Sequence[Any]]:
    """The sheet's rows of cells (their values and number formats): no wider than MAX_COLUMNS, no
    padding to a declared width, and WorkbookTooLarge past MAX_ROWS (a row-number gap is counted as
    the empty rows it stands for)."""
    sheet.reset_dimensions()  # the declared dimension is the sheet's word, not its cells
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        if number > MAX_ROWS:
            raise WorkbookTooLarge(f"the sheet has more than {MAX_ROWS:,} rows")
        yield cells[:MAX_COLUMNS]
