"""A fleet csv is read as written: its dialect spelled out, never sniffed from a sample, and a file that
cannot be read is refused with its reason, never an internal error."""

from __future__ import annotations

import csv
from pathlib import Path

import asyncpg
import duckdb
import openpyxl
import pytest

from spreadsheets.fleet_check import check_file
from spreadsheets.fleet_files import NOT_UTF8, FleetFileError, open_fleet
from tests.builders import SUPPLIER, Builder, context_for

HEADER = ["mpan", "address", "manufacturer_id", "model_id", "hardware_version", "firmware_version"]
IDENTITY = ["106C", "4331", "00AC", "00000003"]
# more rows than DuckDB's sniffer samples (20,480): what it guessed from them held for the rest
PAST_THE_SAMPLE = 30_000


def write(path: Path, addresses: list[str], **dialect: str) -> Path:
    """As Excel and pandas write a csv: a value is quoted only when it must be, a quote inside doubled."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, **dialect)  # type: ignore[arg-type]
        writer.writerow(HEADER)
        writer.writerows([f"M{n}", address, *IDENTITY] for n, address in enumerate(addresses))
    return path


def devices(path: Path) -> list[tuple[object, ...]]:
    with open_fleet(path) as fleet:
        return fleet.conn.execute(
            "select ref, k_manufacturer, k_model, k_hardware, k_firmware from devices"
        ).fetchall()


@pytest.mark.parametrize(
    "addresses",
    [
        ["1 High St"] * 3 + ['Flat 2, "The Maltings"'],
        ["1 High St"] * 3 + ['Unit "B", Leeds'],  # a doubled quote beside a comma: a sniffer's escape
        ["1 High St"] * PAST_THE_SAMPLE + ["1 High St, Leeds"],  # the first quote past the sample
        ["1 High St", "Flat 2\nLeeds", "3 Low St"],  # a newline inside quotes is one value
        ["1 High St"] * PAST_THE_SAMPLE + ["Flat 2\r\nLeeds", "3 Low St"],
    ],
    ids=["quoted-comma", "doubled-quote", "comma-past-sample", "quoted-newline", "newline-past-sample"],
)
def test_every_quoted_value_is_read_as_one(tmp_path: Path, addresses: list[str]) -> None:
    found = devices(write(tmp_path / "meters.csv", addresses))
    assert found == [(f"M{n}", *IDENTITY) for n in range(len(addresses))]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_header_says_which_delimiter(tmp_path: Path, delimiter: str) -> None:
    source = write(tmp_path / "meters.csv", ["1 High St", f"Flat 2{delimiter} Leeds"], delimiter=delimiter)
    assert devices(source) == [("M0", *IDENTITY), ("M1", *IDENTITY)]


def test_a_short_row_is_padded_and_checked_not_refused(tmp_path: Path) -> None:
    """A row that stops early (its last values left out, as some tools write them) has those values
    empty: the row is invalid, the file is read. DuckDB's reader refuses it; Python's pads it."""
    source = tmp_path / "meters.csv"
    source.write_text(",".join(HEADER) + "\nM0,x,106C,4331\nM1,y,106C,4331,00AC,00000003\n")
    assert devices(source) == [("M0", "106C", "4331", "", ""), ("M1", *IDENTITY)]


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_a_line_break_in_quotes_is_read_whatever_ends_the_lines(tmp_path: Path, newline: str) -> None:
    """Excel ends its lines with CR LF and a line break inside a cell with LF: DuckDB's reader, told
    only the first, stopped at the second. Also in a file read by Python (a short row), and in a sheet."""
    source = write(tmp_path / "meters.csv", ["Flat 2\nLeeds", "Flat 3\r\nLeeds"], lineterminator=newline)
    assert devices(source) == [("M0", *IDENTITY), ("M1", *IDENTITY)]
    with source.open("a", newline="") as handle:
        handle.write(f"M2,short{newline}")
    assert devices(source)[2] == ("M2", "", "", "", "")
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["M0", "Flat 2\nLeeds", *IDENTITY])
    book.save(tmp_path / "meters.xlsx")
    assert devices(tmp_path / "meters.xlsx") == [("M0", *IDENTITY)]


def test_a_trailing_delimiter_is_no_value(tmp_path: Path) -> None:
    source = tmp_path / "meters.csv"
    source.write_text(",".join(HEADER) + "\nM0,x,106C,4331,00AC,00000003,\n")
    assert devices(source) == [("M0", *IDENTITY)]


def test_a_value_more_than_the_header_names_refuses_the_file(tmp_path: Path) -> None:
    """An unquoted comma moves every value after it one column on: checking the row would check
    another identity than the one written."""
    source = tmp_path / "meters.csv"
    source.write_text(
        ",".join(HEADER)
        + "\nM0,1 High St,106C,4331,00AC,00000003\nM1,2 High St, Leeds,106C,4331,00AC,00000003\n"
    )
    with pytest.raises(FleetFileError, match=r"^row 3 has 7 values and the header 6 names: .* double quotes"):
        devices(source)


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        ('M9,"Flat 2,106C,4331,00AC,00000003\n', "not a readable csv file: unexpected end of data"),
        ('M9,"Flat" 2,106C,4331,00AC,00000003\n', "not a readable csv file: ',' expected after '\"'"),
        ("M9,Caf\xe9,106C,4331,00AC,00000003\n", NOT_UTF8),
    ],
    ids=["quote-left-open", "text-after-a-quote", "latin-1"],
)
def test_an_unreadable_csv_says_why_past_the_sample(tmp_path: Path, tail: str, reason: str) -> None:
    """Found past the first rows (where the reader's first look ends), it is still the file's fault."""
    source = write(tmp_path / "meters.csv", ["1 High St"] * PAST_THE_SAMPLE)
    with source.open("a", encoding="latin-1", newline="") as handle:
        handle.write(tail)
    with pytest.raises(FleetFileError) as refused:
        devices(source)
    assert str(refused.value).startswith(reason)


def test_a_parquet_broken_past_its_footer_is_refused_not_an_internal_error(tmp_path: Path) -> None:
    """The footer (the columns) reads; the data does not, once the table is loaded."""
    source = tmp_path / "meters.parquet"
    duckdb.sql(
        f"copy (select 'M' || i as mpan, '106C' as manufacturer_id, '4331' as model_id, '00AC' as"
        f" hardware_version, md5(i::varchar) as firmware_version from range(50000) t(i)) to '{source}'"
        " (format parquet, compression zstd)"
    )
    data = bytearray(source.read_bytes())
    data[100:4196] = b"\xff" * 4096  # in the first column chunk, compressed
    source.write_bytes(bytes(data))
    with pytest.raises(FleetFileError, match=r"^not a readable fleet file: ") as refused:
        devices(source)
    assert str(tmp_path) not in str(refused.value)


async def test_a_check_of_quoted_rows_counts_no_invalid(pool: asyncpg.Pool, tmp_path: Path) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002", "00000003")
    source = write(tmp_path / "meters.csv", ["1 High St"] * PAST_THE_SAMPLE + ['Unit "B", Leeds'])
    done = await check_file(context_for(pool, SUPPLIER), source, tmp_path / "report.parquet")
    assert done.report.summary()["upToDate"] == PAST_THE_SAMPLE + 1 and done.problems == []
