"""The devices of a fleet report are written in file order, though a parallel copy would reorder them."""

from __future__ import annotations

from pathlib import Path

import duckdb

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
