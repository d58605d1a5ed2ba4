"""Fleet files at the edge: a csv, parquet or xlsx meter list loaded into DuckDB and grouped by raw identity."""

from __future__ import annotations

import contextlib
import csv
import mmap
import re
import tempfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import openpyxl

from resolvers.cpl_codes import octet, shown_text
from resolvers.fleet_report import RawGroup, RawIdentity
from spreadsheets.cells import xlsx_value
from spreadsheets.xlsx_limits import WorkbookTooLarge, bounded_rows, check_archive

FORMATS = ("csv", "parquet", "xlsx")
# the delimiters DuckDB's sniffer chose among; the header now says which (the first that names the four)
DELIMITERS = (",", ";", "\t", "|")
# the rest of the csv dialect spelled out, never sniffed: DuckDB guessed the quote from its first
# 20,480 rows, so a quoted comma or a doubled quote past them (or in a small file) shifted columns
_DIALECT = "auto_detect = false, quote = '\"', escape = '\"'"
NOT_UTF8 = "the csv file is not UTF-8 text: save it as 'CSV UTF-8'"
# header names, lower-cased and trimmed: the GraphQL names in snake and camel case, and the CPL's own
REF = ("ref", "mpxn", "mpan", "mprn", "device_id", "deviceid")
IDENTITY = (
    ("manufacturer_id", "manufacturerid", "device_model.manufacturer_identifier"),
    ("model_id", "modelid", "device_model.model_identifier"),
    ("hardware_version", "hardwareversion"),
    ("firmware_version", "firmwareversion", "device_model.firmware_version"),
)
CPL_OCTETS = ("device_model.hardware_version.version", "device_model.hardware_version.revision")
# the devices table keeps the file's text; its rowid is the file's order (see FleetFile.row_of)
KEY = ("k_manufacturer", "k_model", "k_hardware", "k_revision", "k_firmware")
_LINK = "fleet"  # the file's name in the work directory, `fleet.csv`


class FleetFileError(ValueError):
    """The file cannot be read as a fleet at all (unknown type, a missing column): nothing checked."""


@dataclass(frozen=True, slots=True)
class FleetFile:
    """A fleet file loaded into a DuckDB work database: `devices(ref, k_...)` in the file's order."""

    conn: duckdb.DuckDBPyConnection
    rows: int
    columns: dict[str, str]  # what each column was found as, for the report's notes
    numbered: bool = False  # devices has a `row` column: the file had blank rows, which are no devices

    def row_of(self, alias: str) -> str:
        """A device's row number as a spreadsheet shows the file (the header is row 1, a blank row counts):
        rowid + 2 when no row was skipped, else the number the row was read with."""
        return f"{alias}.row" if self.numbered else f"{alias}.rowid + 2"

    def raw_groups(self) -> list[RawGroup]:
        """One per distinct raw identity, with its count and first row: thousands, whatever the rows."""
        found = self.conn.execute(
            f"select {', '.join(KEY)}, count(*), min({self.row_of('devices')}) from devices group by all"
        ).fetchall()
        octets = KEY[3] in self.columns
        return [RawGroup(_identity(r[:5], octets), r[5], r[6], key=tuple(r[:5])) for r in found]


def _identity(key: tuple[Any, ...], octets: bool) -> RawIdentity:
    """The CPL prints the hardware version as two octets; joined as the CPL import joins them."""
    manufacturer, model, hardware, revision, firmware = key
    if octets:
        version, rev = octet(hardware), octet(revision)
        hardware = version + rev if version and rev else f"{hardware}/{revision}"
    return (manufacturer, model, hardware, firmware)


@contextlib.contextmanager
def open_fleet(path: Path, memory_limit: str = "512MB", writes_to: Path | None = None) -> Iterator[FleetFile]:
    """Load the file into DuckDB with a memory limit, spilling to a temporary directory past it; the
    table's rowid is the file's order (preserve_insertion_order). The connection is then shut in: it
    reads only the file, writes only in `writes_to` (the report's directory), loads no extension."""
    kind = file_kind(path)
    with tempfile.TemporaryDirectory(prefix="fir-fleet-") as work:
        # in memory up to the limit, then spilled to the temporary directory (a file-backed table would
        # compress and write every row to disk first: three times slower, measured)
        conn = duckdb.connect()
        try:
            conn.execute(f"set memory_limit = '{_memory(memory_limit)}'")
            conn.execute(f"set temp_directory = {_literal(str(Path(work) / 'spill'))}")
            conn.execute("set preserve_insertion_order = true")
            conn.execute("set enable_progress_bar = false")  # the CLI draws its own, on stderr
            link = _linked(path, kind, Path(work))
            _shut_in(conn, link, Path(work), writes_to)
            columns, numbered = _loaded(conn, link, kind, Path(work), shown=(link.name, path.name))
            rows = _scalar(conn, "select count(*) from devices")
            yield FleetFile(conn, rows, columns, numbered)
        finally:
            conn.close()


def _linked(path: Path, kind: str, work: Path) -> Path:
    """The file under a name of ours: DuckDB reads a path as a glob pattern (`meters[1].csv` would read
    `meters1.csv`), and the shut-in connection may read this one path only."""
    link = work / f"{_LINK}.{kind}"
    link.symlink_to(path.absolute())
    return link


def _shut_in(conn: duckdb.DuckDBPyConnection, link: Path, work: Path, writes_to: Path | None) -> None:
    """No file system access but the file (by our link to it), the work directory and the report's
    directory from here on, and no extension installed or loaded: whatever a crafted file or name might
    make of a query, it cannot read the server's files or reach the network. enable_external_access
    cannot be turned back on, nor the allowed paths changed once it is off."""
    directories = [work, *([writes_to] if writes_to is not None else [])]
    listed = ", ".join(_literal(str(d.absolute()).rstrip("/") + "/") for d in directories)
    conn.execute(f"set allowed_directories = [{listed}]")
    conn.execute(f"set allowed_paths = [{_literal(str(link))}]")  # a link is not read as in its directory
    conn.execute("set autoinstall_known_extensions = false")
    conn.execute("set autoload_known_extensions = false")
    conn.execute("set enable_external_access = false")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def file_kind(path: Path) -> str:
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise FleetFileError(f"unsupported fleet file type {path.suffix!r}: expected .csv, .parquet or .xlsx")
    return kind


def _memory(limit: str) -> str:
    if not limit.replace(" ", "").upper().rstrip("KMGTIB").isdigit():
        raise FleetFileError(f"not a memory size: {limit!r}")
    return limit


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    found = conn.execute(sql).fetchone()
    return int(found[0]) if found else 0


@dataclass(frozen=True, slots=True)
class _Source:
    """A DuckDB table function over the file and the header's names in file order; a csv's columns
    are c0, c1... by position (the header is read first: every column a varchar), a parquet's its names."""

    sql: str
    names: list[str]
    positional: bool = True
    numbered: bool = False  # a `row` column first: each row's number in the file

    def column(self, name: str) -> str:
        return f"c{self.names.index(name)}" if self.positional else name


def _loaded(
    conn: duckdb.DuckDBPyConnection, link: Path, kind: str, work: Path, shown: tuple[str, str]
) -> tuple[dict[str, str], bool]:
    """The devices table (its columns found, whether it is numbered); a file DuckDB cannot read is the
    caller's error, naming its file (`shown`: our link's name, then the file's), never an internal one."""
    try:
        if kind == "xlsx":
            return _load(conn, _xlsx_source(link, work))
        if kind == "parquet":
            return _load(conn, _parquet(conn, link))
        return _csv(conn, link, work)
    except duckdb.Error as error:
        said = _without_paths(str(error).splitlines()[0])
        raise FleetFileError(f"not a readable fleet file: {said.replace(*shown)}") from None


def _parquet(conn: duckdb.DuckDBPyConnection, link: Path) -> _Source:
    sql = f"read_parquet({_literal(str(link))})"
    names = [d[0] for d in conn.execute(f"select * from {sql} limit 0").description]
    return _Source(sql, names, positional=False)


def _csv(conn: duckdb.DuckDBPyConnection, link: Path, work: Path) -> tuple[dict[str, str], bool]:
    """DuckDB reads a well-formed csv in parallel. A file with a blank line (DuckDB skips it: every row
    after it would be numbered one short) or one DuckDB refuses (a row short of the header's width, a
    quote left open, bytes that are not UTF-8) Python's csv module reads instead, as the same dialect:
    it numbers the rows, pads a short row as a spreadsheet leaves one, and says what is wrong."""
    delimiter, names = _header(link)
    if not _has_blank_line(link):
        columns = ", ".join(f"c{n}: 'varchar'" for n in range(len(names)))
        dialect = f"{_DIALECT}, delim = {_literal(delimiter)}, new_line = {_literal(_newline(link))}"
        sql = f"read_csv({_literal(str(link))}, {dialect}, header = true, columns = {{{columns}}})"
        with contextlib.suppress(duckdb.InvalidInputException):
            return _load(conn, _Source(sql, names))
    return _load(conn, _rewritten(_csv_records(link, delimiter), work / "rows.csv", cut=False))


def _has_blank_line(path: Path) -> bool:
    """Whether a line before the file's last text is empty, by a search of its bytes: a blank line in
    quotes is a false alarm, which costs the slower read, never a wrong number. Trailing blank lines
    number nothing; a carriage return is looked for only in a file that has one."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
        end = len(data)
        while end > start and data[end - 1] in b"\r\n":
            end -= 1
        newlines = [b"\n\n"] + ([b"\r\r", b"\n\r\n"] if data.find(b"\r", start, end) != -1 else [])
        return data[start : start + 1] in (b"\n", b"\r") or any(
            data.find(n, start, end) != -1 for n in newlines
        )


def _newline(path: Path) -> str:
    """How the file ends its first line, as DuckDB names it. Told nothing, DuckDB's reader takes it from
    there and stops at a value in quotes holding the other kind (Excel ends a line with CR LF, a line
    break in a cell is LF alone); told it, it reads both. A first line that misleads (a line break in a
    quoted header) costs the slower read, not a wrong one."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    lf, cr = head.find(b"\n"), head.find(b"\r")
    if cr == -1 or -1 < lf < cr:
        return "\\n"
    return "\\r\\n" if head[cr + 1 : cr + 2] == b"\n" else "\\r"


def _header(path: Path) -> tuple[str, list[str]]:
    """The delimiter and the header's names: the first of DELIMITERS under which the header names the
    four identity columns, else the one that splits it most (for _columns to say what is missing)."""
    headers = {d: _first_record(path, d) for d in DELIMITERS}
    delimiter = next((d for d, names in headers.items() if not _missing(_found(names))), None)
    delimiter = delimiter or max(headers, key=lambda d: len(headers[d]))
    return delimiter, headers[delimiter]


def _first_record(path: Path, delimiter: str) -> list[str]:
    with contextlib.closing(_csv_records(path, delimiter)) as records:
        return next((values for _, values in records if values), [])


def _csv_records(path: Path, delimiter: str) -> Generator[tuple[int, list[str]]]:
    """Every record with its number (a blank line is a record: []), read as DuckDB's dialect is."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            yield from enumerate(reader, start=1)
        except UnicodeDecodeError:
            raise FleetFileError(NOT_UTF8) from None
        except csv.Error as error:
            raise FleetFileError(f"not a readable csv file: {error} (line {reader.line_num})") from None


def _rewritten(records: Iterator[tuple[int, list[str]]], target: Path, *, cut: bool) -> _Source:
    """The records after the header (the first that is not blank) as a csv DuckDB cannot misread:
    written by Python's csv module, each behind its number (a blank record is no device, but is
    counted), every row as wide as the header. `cut`: values past the header's width are dropped (an
    xlsx's unnamed columns), else only empty ones may be (a trailing delimiter): one more value means
    a delimiter left unquoted, which has moved every value after it."""
    names = next((values for _, values in records if values), [])
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for number, values in records:
            if values:
                writer.writerow([number, *_fitted(values, len(names), number, cut)])
    columns = ", ".join(["row: 'bigint'", *(f"c{n}: 'varchar'" for n in range(len(names)))])
    sql = (
        f"read_csv({_literal(str(target))}, {_DIALECT}, delim = ',', new_line = '\\n', header = false,"
        f" columns = {{{columns}}})"
    )
    return _Source(sql, names, numbered=True)


def _fitted(values: list[str], width: int, number: int, cut: bool) -> list[str]:
    if not cut and any(values[width:]):
        raise FleetFileError(
            f"row {number} has {len(values)} values and the header {width} names: a value holding the"
            " delimiter must be in double quotes"
        )
    return values[:width] + [""] * (width - len(values))


def _load(conn: duckdb.DuckDBPyConnection, source: _Source) -> tuple[dict[str, str], bool]:
    """The devices table from the source's columns the header names (and its row numbers, if any)."""
    found = _columns(source.names)
    column = {key: source.column(name) for key, name in found.items()}
    select = ", ".join(
        (["row"] if source.numbered else [])
        + [_text(column.get("ref"), "ref", empty=None)]
        + [_text(column.get(k), k, empty="''") for k in KEY]
    )
    conn.execute(f"create temp table devices as select {select} from {source.sql}")
    return found, source.numbered


# a quoted absolute path in DuckDB's message ('/tmp/…/check-x/meters.parquet'): the caller sent a file,
# not a path, and the server's directories are none of its business
_QUOTED_PATH = re.compile(r"""(['"])/(?:[^'"/]*/)*([^'"/]*)\1""")


def _without_paths(message: str) -> str:
    return _QUOTED_PATH.sub(r"\1\2\1", message)


def _columns(names: list[str]) -> dict[str, str]:
    """Which file column is which, by header name, case-insensitively; all four identity fields or none."""
    found = _found(names)
    if missing := _missing(found):
        raise FleetFileError(f"no column for {', '.join(missing)} (headers found: {', '.join(names)})")
    return found


def _found(names: list[str]) -> dict[str, str]:
    by_name = {n.strip().lower(): n for n in reversed(names)}
    found: dict[str, str] = {}
    if ref := next((by_name[a] for a in REF if a in by_name), None):
        found["ref"] = ref
    for key, aliases in zip((KEY[0], KEY[1], KEY[2], KEY[4]), IDENTITY, strict=True):
        if name := next((by_name[a] for a in aliases if a in by_name), None):
            found[key] = name
    if KEY[2] not in found and all(o in by_name for o in CPL_OCTETS):
        found[KEY[2]], found[KEY[3]] = by_name[CPL_OCTETS[0]], by_name[CPL_OCTETS[1]]
    return found


def _missing(found: dict[str, str]) -> list[str]:
    return [aliases[0] for key, aliases in zip(KEY[:3] + KEY[4:], IDENTITY, strict=True) if key not in found]


def _text(column: str | None, alias: str, *, empty: str | None) -> str:
    if column is None:
        return f"{empty or 'null::varchar'} as {alias}"
    quoted = '"' + column.replace('"', '""') + '"'
    value = f"cast({quoted} as varchar)"
    return f"{value} as {alias}" if empty is None else f"coalesce({value}, {empty}) as {alias}"


def _xlsx_source(path: Path, work: Path) -> _Source:
    """The first sheet's cells as text, streamed (openpyxl read-only), within spreadsheets.xlsx_limits:
    an xlsx holds at most 1M rows, and a crafted one must not make it hold more."""
    try:
        check_archive(path)
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except WorkbookTooLarge as error:
        raise FleetFileError(f"not a fleet workbook: {error}") from None
    except Exception as error:  # openpyxl raises many kinds for a file that is no workbook
        raise FleetFileError(f"not a readable xlsx workbook: {type(error).__name__}") from None
    try:
        rows = bounded_rows(book.worksheets[0])
        return _rewritten(
            ((n, _texts(cells)) for n, cells in enumerate(rows, 1)), work / "sheet.csv", cut=True
        )
    except WorkbookTooLarge as error:
        raise FleetFileError(f"not a fleet workbook: {error}") from None
    finally:
        book.close()


def _texts(cells: Sequence[Any]) -> list[str]:
    """A sheet row's cells as text as the sheet shows them (a code Excel turned into a number in
    scientific notation as 1.00E+05, which the identity rules refuse, not as 100000, which they would
    pad); a row with none (empty, or never written) is blank: []."""
    texts = [shown_text(xlsx_value(c)) for c in cells]
    return texts if any(texts) else []
