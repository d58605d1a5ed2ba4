"""The `fir` command line against a real database: migrate, import-cpl, export, schema."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = [
    "Version",
    "Entry.number",
    "Entry.status",
    "Device_Type.name",
    "Device_Model.manufacturer_identifier",
    "Device_Model.model_identifier",
    "Device_Model.hardware_version.version",
    "Device_Model.hardware_version.revision",
    "Device_Model.model_identifier_concatenated_with_hardware_version",
    "Device_Model.firmware_version",
    "SMETS_CHTS Version.Version_number_and_effective_date",
    "GBCS Version.version_number",
    "Manufacturer_Image.hash",
]
ROWS = [
    [
        "Version 2.051 Issued on 21-09-2022",
        "1",
        "Current",
        "Communications Hub",
        "106C",
        "4331",
        "0",
        "AC",
        "433100AC",
        "124074DA",
        "CHTS V1.0 ",
        "GBCS Version 1.0 ",
        "137ED5BC81A21F6D2187BC380381AEA7705BF65D3E4DAEA28EFD44113079D5E9",
    ],
    [
        "Version 2.051 Issued on 21-09-2022",
        "23",
        "Removed",
        "Gas Smart Meter",
        "1063",
        "4772",
        "1",
        "01",
        "47720101",
        "03030236",
        "SMETS V2.0 ",
        "GBCS Version 1.0 ",
        "DDF62A640765028BA5C8412F864EF09D6D0508A90849017D0232F663460200A5",
    ],
    [
        "Version 2.051 Issued on 21-09-2022",
        "24",
        "Current",
        "Gas Smart Meter",
        "1063",
        "4772",
        "1",
        "01",
        "47720101",
        "0303023",
        "SMETS V2.0 ",
        "GBCS Version 1.0 ",
        "not-a-hash",
    ],
]


def fir(db_url: str, tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "FIR_DATA_DIR": str(tmp_path), **extra}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


def import_cpl(db_url: str, tmp_path: Path, rows: list[list[str]]) -> subprocess.CompletedProcess[str]:
    """`fir import-cpl` of a csv holding the header and `rows`."""
    source = tmp_path / "cpl.csv"
    with source.open("w", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return fir(db_url, tmp_path, "import-cpl", str(source))


@pytest.mark.timeout(180)
def test_import_then_export_round_trip(db_url: str, tmp_path: Path) -> None:
    assert "up to date" in fir(db_url, tmp_path, "migrate").stderr
    imported = import_cpl(db_url, tmp_path, ROWS)
    assert imported.returncode == 0, imported.stderr
    assert "'added': 2" in imported.stderr and "4" in imported.stderr  # row 4 is reported by number
    out = tmp_path / "fir.csv"
    exported = fir(db_url, tmp_path, "export", str(out))
    assert exported.returncode == 0, exported.stderr
    with out.open(newline="", encoding="utf-8-sig") as f:  # the export carries a BOM for Excel
        rows = list(csv.reader(f))
    assert rows[0][:13] == HEADER
    assert [r[1] for r in rows[1:]] == ["1", "23"]
    assert fir(db_url, tmp_path, "export", str(tmp_path / "fir.txt")).returncode == 2


def test_schema_command_prints_committed_sdl(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "schema"], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout == (ROOT / "schema.graphql").read_text()


@pytest.mark.timeout(180)
async def test_import_prints_upgrade_edges_against_listing_order(db_url: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("insert into manufacturers values ('106C', 'M') on conflict do nothing")
        await conn.execute(
            "insert into device_models values ('106C', '4331', null, 'CHF') on conflict do nothing"
        )
        release = await conn.fetchval(
            "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
            " image_hash, status) values ('106C', '4331', '00AC', '124074DA', $1, 'SUBMITTED') returning id",
            ROWS[0][-1],
        )
        await conn.execute("insert into release_upgradable_from values ($1, '12500101')", release)
    finally:
        await conn.close()
    imported = import_cpl(db_url, tmp_path, ROWS[:1])
    assert imported.returncode == 0, imported.stderr
    assert "'published': 1" in imported.stderr and "'backward_edges': 1" in imported.stderr
    assert "1 upgrade edges against CPL listing order" in imported.stderr


@pytest.mark.timeout(180)
async def test_import_prints_unmatched_submissions_and_report_writes_the_workbook(
    db_url: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("insert into manufacturers values ('106C', 'M') on conflict do nothing")
        await conn.execute(
            "insert into device_models values ('106C', '4331', null, 'CHF') on conflict do nothing"
        )
        # the CPL lists 124074DA with another hash, and nothing for 12400000
        for firmware, digest in (("124074DA", "AB" * 32), ("12400000", ROWS[0][-1])):
            await conn.execute(
                "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
                " image_hash, status) values ('106C', '4331', '00AC', $1, $2, 'SUBMITTED')",
                firmware,
                digest,
            )
    finally:
        await conn.close()
    imported = import_cpl(db_url, tmp_path, ROWS[:1])
    assert imported.returncode == 0, imported.stderr
    assert "2 submissions not matched" in imported.stderr
    assert "HASH_DIFFERS" in imported.stderr and "NO_MATCHING_ENTRY" in imported.stderr
    written = fir(db_url, tmp_path, "report", str(tmp_path / "report.xlsx"))
    assert written.returncode == 0, written.stderr
    assert "1 entries with no FIR record, 2 submissions that cannot publish" in written.stderr
    assert (tmp_path / "report.xlsx").stat().st_size > 0


@pytest.mark.timeout(180)
async def test_prune_changes_deletes_what_retention_no_longer_keeps(db_url: str, tmp_path: Path) -> None:
    assert import_cpl(db_url, tmp_path, ROWS).returncode == 0  # two entries listed: two feed events
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "update change_events set occurred_at = now() - interval '40 days' where position = 1"
        )
        pruned = fir(db_url, tmp_path, "prune-changes", "--days", "30", "--actor", "cli:test")
        assert pruned.returncode == 0, pruned.stderr
        assert (
            "1 event older than 30 days pruned; the feed holds every event after position 1" in pruned.stderr
        )
        assert [r["position"] for r in await conn.fetch("select position from change_events")] == [2]
        action = await conn.fetchval("select action from audit_events where actor = 'cli:test'")
        assert action == "changeFeed.prune"
    finally:
        await conn.close()
    off = fir(db_url, tmp_path, "prune-changes", FIR_CHANGE_FEED_RETENTION_DAYS="0")
    assert off.returncode == 1 and "retention is off" in off.stderr, off.stderr
    assert fir(db_url, tmp_path, "prune-changes", FIR_CHANGE_FEED_RETENTION_DAYS="-1").returncode != 0


@pytest.mark.timeout(180)
def test_failures_are_one_line_and_a_nonzero_exit(db_url: str, tmp_path: Path) -> None:
    """A database that does not answer, or a folder that does not exist, was a rich traceback of two
    hundred lines; an import whose every row was refused exited 0."""
    down = fir("postgresql://fir:S3cret@127.0.0.1:1/fir", tmp_path, "export", str(tmp_path / "x.csv"))
    assert down.returncode == 1 and "Traceback" not in down.stderr, down.stderr
    assert down.stderr.startswith("fir: ") and len(down.stderr.splitlines()) == 1, down.stderr
    assert "S3cret" not in down.stderr
    missing = fir(db_url, tmp_path, "export", str(tmp_path / "nodir" / "x.csv"))
    assert missing.returncode == 1 and missing.stderr.splitlines()[-1].startswith("fir: "), missing.stderr
    assert "Traceback" not in missing.stderr and "nodir" in missing.stderr
    refused = import_cpl(db_url, tmp_path, [ROWS[2]])  # its only row is refused
    assert refused.returncode == 1 and "no row imported" in refused.stderr, refused.stderr
