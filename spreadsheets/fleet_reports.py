"""Fleet reports at the edge: one row per input row (csv, parquet, xlsx), a summary, manufacturers, a campaign plan."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import openpyxl

from resolvers.fleet_report import CampaignStep, FleetReport, ManufacturerCount, Outcome
from spreadsheets.atomic import replaced_atomically
from spreadsheets.cells import duckdb_csv_text, xlsx_row
from spreadsheets.fleet_files import FORMATS, KEY, FleetFile, FleetFileError

DEVICE_COLUMNS = (
    "row",
    "ref",
    "manufacturer_id",
    "model_id",
    "hardware_version",
    "firmware_version",
    "status",
    "on_cpl",
    "cpl_entry",
    "is_latest",
    "latest_version",
    "latest_cpl_entry",
    "upgrade_path",
    "upgrade_steps",
    "problem_field",
    "problem",
)
_OUTCOME_TYPES = {"on_cpl": "boolean", "is_latest": "boolean", "cpl_entry": "integer"}
_OUTCOME_TYPES |= {"latest_cpl_entry": "integer", "upgrade_steps": "integer"}
_IDENTITY = DEVICE_COLUMNS[2:6]
_DETAIL = DEVICE_COLUMNS[6:]
XLSX_SHEET_ROWS = 1_048_575  # an xlsx sheet holds 1,048,576 rows, the header included
_BATCH = 10_000


def report_kind(path: Path) -> str:
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise FleetFileError(f"unsupported report type {path.suffix!r}: expected .csv, .parquet or .xlsx")
    return kind


def write_report(fleet: FleetFile, report: FleetReport, path: Path) -> list[Path]:
    """The report at `path`; csv and parquet get the three small tables beside it (`NAME.summary.csv`...).
    Each file appears complete or not at all."""
    kind = report_kind(path)
    _outcomes(fleet.conn, report.outcomes)
    if kind == "xlsx":
        with in_file_order(fleet.conn):
            _atomic(path, lambda partial: _xlsx(fleet, report, partial))
        return [path]
    with in_file_order(fleet.conn):
        _atomic(path, lambda partial: _copy(fleet.conn, devices_query(fleet), partial, kind))
    return [path, *write_tables(fleet.conn, report_tables(report), path)]


@contextlib.contextmanager
def in_file_order(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One thread for the join of rows to outcomes, and the join as written: a single pipeline scans
    the rows in rowid order and probes a hash table of the small outcome table, so rows leave in file
    order. A parallel join does not keep that order, and sorting 10 million wide rows instead costs
    four times as long (measured). Left to choose, DuckDB's optimizers built the hash table on the
    rows of a small file (a few rows, some sharing an identity: the outcomes being wider) and probed
    it with the outcomes, which wrote the rows in another order."""
    threads = conn.execute("select current_setting('threads')").fetchall()[0][0]
    conn.execute("set threads = 1")
    conn.execute("set disabled_optimizers = 'join_order, build_side_probe_side'")
    try:
        yield
    finally:
        conn.execute("reset disabled_optimizers")
        conn.execute(f"set threads = {int(threads)}")


def write_tables(
    conn: duckdb.DuckDBPyConnection, tables: dict[str, list[dict[str, Any]]], path: Path
) -> list[Path]:
    """The summary, manufacturers and campaign tables as files beside a csv or parquet report."""
    written = []
    for name, rows in tables.items():
        target = path.with_name(f"{path.stem}.{name}{path.suffix}")
        _table(conn, f"t_{name}", rows)
        _atomic(target, _copier(conn, f"select * from t_{name}", report_kind(path)))
        written.append(target)
    return written


def _copier(conn: duckdb.DuckDBPyConnection, query: str, kind: str) -> Callable[[Path], None]:
    def copy(target: Path) -> None:
        _copy(conn, query, target, kind)

    return copy


def report_tables(report: FleetReport) -> dict[str, list[dict[str, Any]]]:
    """The report's small tables as plain rows: what GET /fleet-checks/{id} answers too."""
    return {
        "summary": [{"measure": k, "devices": v} for k, v in report.summary().items()],
        "manufacturers": [dataclasses.asdict(m) for m in report.manufacturers],
        "campaign": [dataclasses.asdict(c) for c in report.campaign],
    }


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    with replaced_atomically(path) as partial:
        write(partial)


def _outcomes(conn: duckdb.DuckDBPyConnection, outcomes: Sequence[Outcome]) -> None:
    """The few thousand outcomes as a table the devices join to on the file's own cells."""
    columns = [(k, "varchar") for k in KEY] + [(c, "varchar") for c in _IDENTITY]
    columns += [(c, _OUTCOME_TYPES.get(c, "varchar")) for c in _DETAIL]
    _insert_columns(conn, "outcomes", columns, [_outcome_row(o) for o in outcomes])


def _insert_columns(
    conn: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]], rows: list[tuple[object, ...]]
) -> None:
    """A table from Python rows in one statement, a list parameter per column unnested side by side
    (executemany costs 2 ms a row: 4 s for 2,000 outcomes, measured)."""
    conn.execute(f"create or replace temp table {name} ({', '.join(f'{c} {t}' for c, t in columns)})")
    if not rows:
        return
    select = ", ".join(f"unnest(?::{t}[]) as {c}" for c, t in columns)
    conn.execute(f"insert into {name} select {select}", [list(column) for column in zip(*rows, strict=True)])


def _outcome_row(o: Outcome) -> tuple[object, ...]:
    i = o.identity
    identity = (i.manufacturer_id, i.model_id, i.hardware_version, i.firmware_version) if i else (None,) * 4
    detail = (o.status, o.on_cpl, o.cpl_entry, o.is_latest, o.latest_version, o.latest_cpl_entry)
    return (*o.key, *identity, *detail, o.upgrade_path, o.upgrade_steps, o.problem_field, o.problem)


def devices_query(fleet: FleetFile) -> str:
    """Every input row with its group's outcome; invalid rows keep the file's text. In file order only
    when run on one thread (see in_file_order)."""
    raw = dict(zip(_IDENTITY, (KEY[0], KEY[1], KEY[2], KEY[4]), strict=True))
    identity = [f"coalesce(o.{c}, d.{raw[c]}) as {c}" for c in _IDENTITY]
    on = " and ".join(f"d.{k} = o.{k}" for k in KEY)
    select = ", ".join([f"{fleet.row_of('d')} as row", "d.ref", *identity, *(f"o.{c}" for c in _DETAIL)])
    return f"select {select} from devices d join outcomes o on {on}"


def first_problems(fleet: FleetFile, limit: int) -> list[dict[str, Any]]:
    """The first malformed rows, by row number (all of them are in the report)."""
    if not fleet.conn.execute("select count(*) from outcomes where status = 'invalid'").fetchall()[0][0]:
        return []  # most files: no second pass over the rows
    found = fleet.conn.execute(
        f"select row, ref, problem_field, problem from ({devices_query(fleet)}) where status = 'invalid' order by row limit {int(limit)}"
    ).fetchall()
    return [{"row": r[0], "ref": r[1], "field": r[2], "message": r[3]} for r in found]


def _copy(conn: duckdb.DuckDBPyConnection, query: str, target: Path, kind: str) -> None:
    """Parquet as the data is (typed, read by programs); csv for spreadsheets: text that would run as a
    formula behind an apostrophe (spreadsheets.cells) and every field quoted."""
    if kind == "parquet":
        options = "format parquet, compression zstd"
    else:
        options = "format csv, header true, force_quote *"
        query = _csv_safe(conn, query)
    # absolute: the fleet's connection may write only in the report's directory, named absolutely
    conn.execute(f"copy ({query}) to '{str(target.absolute()).replace(chr(39), chr(39) * 2)}' ({options})")


def _csv_safe(conn: duckdb.DuckDBPyConnection, query: str) -> str:
    described = conn.execute(f"describe {query}").fetchall()
    columns = []
    for name, kind, *_ in described:
        quoted = '"' + str(name).replace('"', '""') + '"'
        text = str(kind).upper() == "VARCHAR"
        columns.append(f"{duckdb_csv_text(quoted)} as {quoted}" if text else quoted)
    return f"select {', '.join(columns)} from ({query})"


def _table(conn: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        conn.execute(f"create or replace temp table {name} (empty varchar)")
        return
    columns = [(c, _sql_type([r[c] for r in rows])) for c in rows[0]]
    values = [
        tuple(
            None if v is None else (v if t == "bigint" else str(v))
            for v, (_, t) in zip(r.values(), columns, strict=True)
        )
        for r in rows
    ]
    _insert_columns(conn, name, columns, values)


def _sql_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    return "bigint" if present and all(isinstance(v, int) for v in present) else "varchar"


def _xlsx(fleet: FleetFile, report: FleetReport, target: Path) -> None:
    """Summary, manufacturers and campaign first (what a supplier reads), then the devices, split over
    as many sheets as an xlsx needs (write-only: rows stream through, never held)."""
    book = openpyxl.Workbook(write_only=True)
    for name, rows in report_tables(report).items():
        sheet = book.create_sheet(name.capitalize())
        header = list(rows[0]) if rows else _table_header(name)
        sheet.append(header)
        for row in rows:
            sheet.append(xlsx_row(sheet, list(row.values())))
    for number, batch in enumerate(_sheets(fleet.conn.execute(devices_query(fleet))), start=1):
        sheet = book.create_sheet("Devices" if number == 1 else f"Devices {number}")
        sheet.append(list(DEVICE_COLUMNS))
        for chunk in batch:
            for device in chunk:
                sheet.append(xlsx_row(sheet, device))
    book.save(target)


def _table_header(name: str) -> list[str]:
    kind = {"manufacturers": ManufacturerCount, "campaign": CampaignStep}.get(name)
    return [f.name for f in dataclasses.fields(kind)] if kind else ["measure", "devices"]


def _sheets(cursor: duckdb.DuckDBPyConnection) -> Iterator[Iterator[list[tuple[Any, ...]]]]:
    """Batches of rows, grouped into sheets of at most XLSX_SHEET_ROWS; at least one (maybe empty) sheet."""
    pending = cursor.fetchmany(_BATCH)
    first = True
    while pending or first:
        first = False
        room = XLSX_SHEET_ROWS

        def sheet() -> Iterator[list[tuple[Any, ...]]]:
            nonlocal pending, room
            while pending and room > 0:
                take, pending = pending[:room], pending[room:]
                room -= len(take)
                yield take
                if not pending:
                    pending = cursor.fetchmany(_BATCH)

        yield sheet()
