"""DuckDB against Polars on a fleet file's own work: group the rows by raw identity, join an outcome per
group back onto every row in file order, write parquet. What differs between the engines; the
resolvers' part between the two stages is the same either way and is left out.

DuckDB runs the gateway's code (spreadsheets.fleet_files.open_fleet and raw_groups, then the join as
fleet_reports writes it: one thread, which keeps file order); Polars the same steps written with its
lazy API (streaming engine, `maintain_order="left"` for the order). Each engine runs in a process of
its own; both outputs are checked to hold the same rows in the same order before a figure is kept.

    python -m tests.perf.engines FILE.csv          # prints both engines' figures
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tests.perf.servers import RssSampler

ENGINES = ("duckdb", "polars")
IDENTITY = ("manufacturer_id", "model_id", "hardware_version", "firmware_version")
RUN_TIMEOUT = 600  # seconds for one engine's run: it stops by itself


@dataclass(frozen=True)
class EngineRun:
    engine: str
    rows: int
    group_s: float  # reading the file and grouping its rows
    write_s: float  # joining the outcomes back and writing the parquet report
    seconds: float  # the process's wall time, start-up included
    rss: int  # peak resident memory of the process


def available() -> bool:
    return importlib.util.find_spec("polars") is not None


def compare(source: Path) -> list[EngineRun]:
    """Both engines on `source`, DuckDB first; their reports must agree row for row."""
    with tempfile.TemporaryDirectory(prefix="fir-engines-") as tmp:
        runs = [_run(engine, source, Path(tmp) / f"{engine}.parquet") for engine in ENGINES]
        _same_rows(Path(tmp) / "duckdb.parquet", Path(tmp) / "polars.parquet")
    return runs


def _run(engine: str, source: Path, out: Path) -> EngineRun:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.perf.engines", "--engine", engine, str(source), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with RssSampler(proc.pid) as sampler:
        try:
            said, err = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            said, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} failed ({proc.returncode}): {err.decode()[-2000:]}")
    stages = json.loads(said.decode().splitlines()[-1])
    elapsed = time.perf_counter() - started
    return EngineRun(engine, stages["rows"], stages["group"], stages["write"], elapsed, sampler.peak)


def _same_rows(duck: Path, polar: Path) -> None:
    """The same (row, ref, status) sequence: every row, its group's outcome, in the file's order."""
    conn = duckdb.connect()
    sums = [
        conn.execute(
            "select count(*), sum(hash(row, ref, status, n)) from"
            f" (select row, ref, status, row_number() over () as n from read_parquet('{path}'))"
        ).fetchall()[0]
        for path in (duck, polar)
    ]
    conn.close()
    if sums[0] != sums[1]:
        raise RuntimeError(f"the engines' reports differ: {sums}")


def _outcome(key: tuple[object, ...]) -> tuple[str, str]:
    """A stand-in outcome per group, the same in both engines: a status and an upgrade path."""
    firmware = str(key[-1])
    return ("outdated" if firmware < "00000003" else "up_to_date", f"{firmware} > 00000003")


def duckdb_pipeline(source: Path, out: Path) -> dict[str, float]:
    from spreadsheets.fleet_files import KEY, open_fleet
    from spreadsheets.fleet_reports import _insert_columns, in_file_order

    started = time.perf_counter()
    with open_fleet(source, writes_to=out.parent) as fleet:
        groups = fleet.raw_groups()
        grouped = time.perf_counter()
        rows = [(*g.key, *_outcome(g.key)) for g in groups]
        columns = [(k, "varchar") for k in KEY] + [("status", "varchar"), ("upgrade_path", "varchar")]
        _insert_columns(fleet.conn, "outcomes", columns, rows)
        on = " and ".join(f"d.{k} = o.{k}" for k in KEY)
        query = (
            "select d.rowid + 2 as row, d.ref, d.k_manufacturer as manufacturer_id, d.k_model as model_id,"
            " d.k_hardware as hardware_version, d.k_firmware as firmware_version, o.status, o.upgrade_path"
            f" from devices d join outcomes o on {on}"
        )
        with in_file_order(fleet.conn):
            fleet.conn.execute(f"copy ({query}) to '{out}' (format parquet, compression zstd)")
        total = fleet.rows
    return {"rows": total, "group": grouped - started, "write": time.perf_counter() - grouped}


def polars_pipeline(source: Path, out: Path) -> dict[str, float]:
    import polars as pl

    started = time.perf_counter()
    scan = pl.scan_csv(source, infer_schema=False, glob=False).with_row_index("rowid")
    # the same header aliases the gateway accepts are not needed here: the bench's files use these names
    groups = (
        scan.group_by(list(IDENTITY))
        .agg(pl.len().alias("devices"), pl.col("rowid").min().alias("first"))
        .collect(engine="streaming")
    )
    grouped = time.perf_counter()
    keys = groups.select(IDENTITY).rows()
    outcomes = pl.DataFrame(
        [(*k, *_outcome(k)) for k in keys],
        schema=[*IDENTITY, "status", "upgrade_path"],
        orient="row",
    )
    (
        scan.join(outcomes.lazy(), on=list(IDENTITY), how="inner", maintain_order="left")
        .select(
            (pl.col("rowid") + 2).alias("row"),
            pl.col("mpxn").alias("ref"),
            *IDENTITY,
            "status",
            "upgrade_path",
        )
        .sink_parquet(out, compression="zstd")
    )
    rows = int(groups["devices"].sum())
    return {"rows": rows, "group": grouped - started, "write": time.perf_counter() - grouped}


def lines(runs: list[EngineRun]) -> list[str]:
    by = {(r.engine, r.rows): r for r in runs}
    out = []
    for rows in sorted({r.rows for r in runs}):
        duck, polar = by.get(("duckdb", rows)), by.get(("polars", rows))
        if duck is None or polar is None:
            continue
        out.append(
            f"engines, {rows:,} rows (group, then join back in file order and write parquet):"
            f" DuckDB {duck.group_s:.1f} + {duck.write_s:.1f} s, peak RSS {duck.rss / 2**20:,.0f} MB;"
            f" Polars {polar.group_s:.1f} + {polar.write_s:.1f} s, peak RSS {polar.rss / 2**20:,.0f} MB;"
            f" Polars takes {(polar.group_s + polar.write_s) / (duck.group_s + duck.write_s):.2f}x DuckDB's time"
        )
    return out


def main(argv: list[str]) -> None:
    if argv[:1] == ["--engine"]:
        engine, source, out = argv[1], Path(argv[2]), Path(argv[3])
        pipeline = duckdb_pipeline if engine == "duckdb" else polars_pipeline
        print(json.dumps(pipeline(source, out)))
        return
    print("\n".join(lines(compare(Path(argv[0])))))


if __name__ == "__main__":
    main(sys.argv[1:])
