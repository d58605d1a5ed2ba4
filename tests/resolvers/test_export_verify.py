"""`fir verify export` against leaves moved between rows: each leaf must be of its fact's type and about its row."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import asyncpg
import openpyxl
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from gateway.cli import app
from loaders.audit import Actor
from loaders.db import Db
from resolvers import log_backfill, transparency
from resolvers.checkpoints import VerifierKey
from resolvers.cpl_rows import IMAGE_HASH
from resolvers.export_verify import check_export
from spreadsheets.fir_files import export_fir, read_fir_rows
from tests.builders import Builder, listing_input, submission_input
from tests.resolvers.test_transparency import ok

ORIGIN = "fir-graph/log"
SIGNER = Ed25519PrivateKey.generate()
KEY = VerifierKey(ORIGIN, SIGNER.public_key())
LIST = "mutation($i: CplEntryInput!) { listCplEntry(input: $i) { number } }"
SUBMIT = "mutation($i: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $i) { id } }"
OTHER = {"manufacturerId": "2A4F", "modelId": "0101", "hardwareVersion": "0001"}
LEAF_COLUMNS = ("FIR.release_id", "FIR.release_log_leaf", "FIR.release_log_proof")
CONTACT_COLUMNS = ("FIR.firmware_contact", "FIR.contacts_log_leaf", "FIR.contacts_log_proof")


@pytest.fixture
async def rows(pool: asyncpg.Pool, db: Db, tmp_path: Path) -> list[dict[str, Any]]:
    """Entry 1 and its release by 106C, entry 2 and its release by 2A4F, signed, exported."""
    return await exported(pool, db, tmp_path / "fir.csv")


async def exported(pool: asyncpg.Pool, db: Db, path: Path, *contact_sql: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        for mid, model in (("106C", "4331"), ("2A4F", "0101")):
            await Builder(conn).manufacturer(mid)  # with a firmware contact, logged by the backfill
            await Builder(conn).model(mid, model, "CHF")
        for statement in contact_sql:
            await conn.execute(statement)
    await ok(pool, LIST, i=listing_input(1, "12700001"))
    await ok(pool, SUBMIT, i=submission_input("12700001"))
    await ok(pool, LIST, i={**listing_input(2, "00000002"), **OTHER})
    await ok(pool, SUBMIT, i={**submission_input("00000002"), **OTHER})
    await log_backfill.backfill(db, Actor("test", None))
    assert await transparency.sign_checkpoint(db, ORIGIN, SIGNER) is not None
    await export_fir(db, path)
    return list(read_fir_rows(path))


def moved(rows: list[dict[str, Any]], columns: tuple[str, ...], blank: bool = False) -> list[dict[str, Any]]:
    """Row 1 given row 2's cells in `columns` (or blank ones)."""
    return [{**rows[0], **{c: "" if blank else rows[1][c] for c in columns}}, rows[1]]


def test_an_honest_export_verifies(rows: list[dict[str, Any]]) -> None:
    assert check_export(KEY, rows) == (2, [], [])


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_text_that_looks_like_a_formula_verifies(
    pool: asyncpg.Pool, db: Db, tmp_path: Path, kind: str
) -> None:
    """A phone-only contact (+44 ...) is exported behind an apostrophe in csv, as a string cell in xlsx,
    and read back as it was logged: the defence against formulas never fails an honest export."""
    found = await exported(
        pool,
        db,
        tmp_path / f"fir.{kind}",
        "update contacts set name = '=Desk', email = null, phone = '+44 20 7946 0000'"
        " where manufacturer_id = '106C'",
    )
    assert check_export(KEY, found) == (2, [], [])
    assert found[0]["FIR.firmware_contact"] == "=Desk +44 20 7946 0000"
    if kind == "csv":  # the file itself carries the defence, every field quoted
        assert '"\'=Desk +44 20 7946 0000"' in (tmp_path / "fir.csv").read_text(encoding="utf-8-sig")
    else:
        sheet = openpyxl.load_workbook(tmp_path / "fir.xlsx").active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_another_manufacturers_genuine_contacts_leaf_does_not_verify(rows: list[dict[str, Any]]) -> None:
    _, problems, _ = check_export(KEY, moved(rows, CONTACT_COLUMNS))
    assert problems == ["row 2 (CPL entry 1): contacts: the signed log's leaf is about 2A4F, not 106C"]


def test_a_leaf_of_another_type_does_not_stand_for_the_entry(rows: list[dict[str, Any]]) -> None:
    forged = {
        **rows[0],
        "FIR.log_leaf": rows[0]["FIR.contacts_log_leaf"],  # same manufacturer, no image hash in it
        "FIR.log_proof": rows[0]["FIR.contacts_log_proof"],
        IMAGE_HASH: "0" * 64,
    }
    _, problems, _ = check_export(KEY, [forged, rows[1]])
    assert "row 2 (CPL entry 1): the signed log's leaf is of type 'contacts', not 'cpl_entry'" in problems


def test_another_identitys_release_leaf_does_not_hide_the_rows_release(rows: list[dict[str, Any]]) -> None:
    forged = moved(rows, LEAF_COLUMNS)
    forged[0]["FIR.release_id"] = ""  # hidden; row 2's leaf is published, with another image hash
    _, problems, _ = check_export(KEY, forged)
    assert problems == [
        "row 2 (CPL entry 1): release: the signed log's leaf is about 2A4F/0101/0001/00000002,"
        " not 106C/4331/00AC/12700001"
    ]


def test_blanked_release_or_contacts_columns_are_not_verified(
    rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    for columns, fact in ((LEAF_COLUMNS, "release"), (CONTACT_COLUMNS, "contacts")):
        _, problems, unproven = check_export(KEY, moved(rows, columns, blank=True))
        assert problems == [] and len(unproven) == 1
        assert unproven[0].startswith(f"row 2 (CPL entry 1): {fact}: not verified (empty {fact} log columns")
    path, key = tmp_path / "blank.csv", tmp_path / "key"
    key.write_text(KEY.text())
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(moved(rows, LEAF_COLUMNS, blank=True))
    strict = CliRunner().invoke(app, ["verify", "export", str(path), "-k", str(key), "--strict"])
    assert strict.exit_code == 1 and "FAILED row 2 (CPL entry 1): release: not verified" in strict.output
    lenient = CliRunner().invoke(app, ["verify", "export", str(path), "-k", str(key)])
    assert lenient.exit_code == 0, lenient.output
    assert "NOT VERIFIED row 2 (CPL entry 1): release" in lenient.output
    assert lenient.output.endswith("OK: 2 rows verified, 1 facts not verified\n")


async def test_a_row_from_an_older_export_fails_the_file(
    pool: asyncpg.Pool, db: Db, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Each row was checked alone against its own checkpoint: entry 1's row from before its release
    was withdrawn, pasted into a later export, verified, showing the release as published."""
    withdraw = 'mutation($id: ID!) { withdrawFirmwareRelease(id: $id, reason: "bricks meters") { id } }'
    await ok(pool, withdraw, id=rows[0]["FIR.release_id"])
    assert await transparency.sign_checkpoint(db, ORIGIN, SIGNER) is not None
    await export_fir(db, tmp_path / "later.csv")
    later = list(read_fir_rows(tmp_path / "later.csv"))
    assert check_export(KEY, later)[1] == []
    mixed = [rows[0], *later[1:]]
    _, problems, _ = check_export(KEY, mixed)
    assert any(p.startswith("file: rows state 2 different signed checkpoints (size ") for p in problems), (
        problems
    )
    assert any(p.startswith("file: rows state 2 different data versions") for p in problems), problems


def test_no_rows_is_no_export() -> None:
    assert check_export(KEY, []) == (0, ["file: no rows (not an exported FIR spreadsheet)"], [])


@pytest.mark.parametrize("tamper", ["formula", "second sheet"])
async def test_an_xlsx_with_a_formula_or_another_sheet_is_refused(
    pool: asyncpg.Pool, db: Db, tmp_path: Path, tamper: str
) -> None:
    """A formula's saved value (what data_only reads) may be the genuine hash while Excel shows what
    the formula computes on opening: the export writes no formula, so any formula fails the file."""
    path, key = tmp_path / "fir.xlsx", tmp_path / "key"
    key.write_text(KEY.text())
    await exported(pool, db, path)
    book = openpyxl.load_workbook(path)
    if tamper == "formula":
        column = [c.value for c in book["FIR"][1]].index(IMAGE_HASH) + 1
        book["FIR"].cell(row=2, column=column).value = '="' + "E" * 64 + '"'
    else:
        book.create_sheet("Shown", 0)
    book.save(path)
    result = CliRunner().invoke(app, ["verify", "export", str(path), "-k", str(key)])
    assert result.exit_code == 1, result.output
    expected = "holds a formula" if tamper == "formula" else "has one, FIR"
    assert result.output.startswith("FAILED file: ") and expected in result.output, result.output


def test_a_missing_or_unreadable_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text(KEY.text())
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    for args in (
        ["verify", "export", str(tmp_path / "none.csv"), "-k", str(key)],
        ["verify", "export", str(tmp_path / "corrupt.xlsx"), "-k", str(key)],
        ["verify", "export", str(key), "-k", str(tmp_path / "nokey.txt")],
        ["verify", "answer", str(tmp_path / "none.json"), "-k", str(key)],
        ["verify", "checkpoint", str(key), str(tmp_path / "none"), "-k", str(key)],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert result.output.startswith("cannot read ") and "Traceback" not in result.output, result.output
