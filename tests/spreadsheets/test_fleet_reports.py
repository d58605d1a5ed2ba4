"""The devices of a fleet report are written in file order, though a parallel copy would reorder them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from spreadsheets.fleet_files import KEY, FleetFile
from spreadsheets.fleet_reports import DEVICE_COLUMNS, _copy, devices_query, in_file_order

ROWS = 1_000_000  # enough chunks for a parallel copy to interleave them (measured: it did)


def fleet(conn: duckdb.DuckDBPyConnection) -> None:
    keys = ", ".join(f"(i % 2000)::varchar as {k}" for k in KEY)
    conn.execute(f"create temp table devices as select 'MPAN-' || i as ref, {keys} from range({ROWS}) t(i)")
    detail = ", ".join(f"null::varchar as {c}" for c in DEVICE_COLUMNS[2:])
    conn.execute(f"create temp table outcomes as select distinct {', '.join(KEY)}, {detail} from devices")


def out_of_order(path: Path) -> int:
    with duckdb.connect() as conn:
        conn.execute("set threads = 1")
        found = conn.execute(
            "select count(*) filter (where row <> previous + 1) from (select row, lag(row, 1, 1) over ()"
            f" as previous from read_parquet('{path}'))"
        ).fetchall()
    return int(found[0][0])


def test_the_report_keeps_file_order(tmp_path: Path) -> None:
    with duckdb.connect() as conn:
        conn.execute("set threads = 2")
        fleet(conn)
        with in_file_order(conn):
            _copy(conn, devices_query(FleetFile(conn, ROWS, {})), tmp_path / "ordered.parquet", "parquet")
        assert conn.execute("select current_setting('threads')").fetchall() == [(2,)]  # restored
    assert out_of_order(tmp_path / "ordered.parquet") == 0


@pytest.mark.parametrize("firmware", [["A", "B", "A"], ["A", "A", "B"], ["C", "B", "A", "A"]])
def test_a_small_report_keeps_file_order(tmp_path: Path, firmware: list[str]) -> None:
    """A few rows, some sharing an identity: DuckDB's optimizer built the join's hash table on the rows
    (the outcomes being wider) and probed it with the outcomes, which wrote the rows in their order."""
    with duckdb.connect() as conn:
        keys = ", ".join(f"'x' as {k}" for k in KEY[:4])
        values = ", ".join(f"('m{n}', '{f}')" for n, f in enumerate(firmware))
        conn.execute(
            f"create temp table devices as select ref, {keys}, f as {KEY[4]} from (values {values}) v(ref, f)"
        )
        detail = ", ".join(f"'{c}' as {c}" for c in DEVICE_COLUMNS[2:])
        conn.execute(f"create temp table outcomes as select distinct {', '.join(KEY)}, {detail} from devices")
        with in_file_order(conn):
            _copy(
                conn, devices_query(FleetFile(conn, len(firmware), {})), tmp_path / "small.parquet", "parquet"
            )
        assert conn.execute("select current_setting('disabled_optimizers')").fetchall() == [("",)]  # restored
    written = duckdb.sql(f"select row, ref from '{tmp_path / 'small.parquet'}'").fetchall()
    assert written == [(n + 2, f"m{n}") for n in range(len(firmware))]
