"""CPL issues: each import records its issue; listedOn and removedOn are the issues' dates, not the import's."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from loaders.db import Db
from resolvers.cpl_import import import_cpl
from resolvers.cpl_issues import Issue, parse_issue
from resolvers.principal import ANONYMOUS
from schema.schema import build_schema
from spreadsheets.cpl_files import CplWorkbook
from spreadsheets.fir_files import export_fir
from tests.builders import execute
from tests.fixtures_cpl import V2051, generated_row, generated_rows, write_cpl

SCHEMA = build_schema()
V2052 = "Version 2.052 Issued on 05-10-2022"
IMPORT_DAY = dt.date(2026, 3, 1)  # long after both issues: no date below may be this one
ISSUES = """{ cplIssues { version title issuedOn } }"""
CHANGES = """query($v: String!) { cplIssue(version: $v) { added { number } removed { number } } }"""
ISSUE = """query($v: String!) { cplIssue(version: $v) { version issuedOn added { number listedOn }
  removed { number status removedOn } } }"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (V2051, Issue("2.051", dt.date(2022, 9, 21), V2051)),
        (
            "  version 2.1   issued on 1/2/2023 ",
            Issue("2.1", dt.date(2023, 2, 1), "version 2.1 issued on 1/2/2023"),
        ),
        ("Version 2.051", None),
        ("Version 2.051 Issued on 31-02-2022", None),  # no such day
        ("Version \u0662.\u0660\u0665\u0661 Issued on 21-09-2022", None),  # Arabic-Indic digits: no number
        (None, None),
    ],
)
def test_parse_issue(text: str | None, expected: Issue | None) -> None:
    assert parse_issue(text) == expected


async def query(pool: asyncpg.Pool, document: str, **variables: Any) -> Any:
    result = await execute(SCHEMA, pool, document, ANONYMOUS, **variables)
    assert result.errors is None, result.errors
    return result.data


async def test_issues_added_removed_and_their_dates(db: Db, pool: asyncpg.Pool, tmp_path: Path) -> None:
    await import_cpl(
        db, CplWorkbook(write_cpl(tmp_path / "v1.csv", generated_rows(range(100, 103)))), actor="s", organisation=None,
        today=IMPORT_DAY,
    )  # fmt: skip
    newer = [
        generated_row(100, version=V2052),
        generated_row(101, version=V2052, status="Removed"),
        generated_row(102, version=V2052),
        generated_row(103, version=V2052),
    ]
    await import_cpl(
        db, CplWorkbook(write_cpl(tmp_path / "v2.csv", newer)), actor="s", organisation=None, today=IMPORT_DAY
    )

    everything = await query(pool, ISSUES)
    assert everything["cplIssues"] == [
        {"version": "2.051", "title": V2051, "issuedOn": "2022-09-21"},
        {"version": "2.052", "title": V2052, "issuedOn": "2022-10-05"},
    ]
    changes = {v: (await query(pool, CHANGES, v=v))["cplIssue"] for v in ("2.051", "2.052")}
    assert changes == {
        "2.051": {"added": [{"number": 100}, {"number": 101}, {"number": 102}], "removed": []},
        "2.052": {"added": [{"number": 103}], "removed": [{"number": 101}]},
    }
    second = (await query(pool, ISSUE, v="2.052"))["cplIssue"]
    assert second["added"] == [{"number": 103, "listedOn": "2022-10-05"}]
    assert second["removed"] == [{"number": 101, "status": "REMOVED", "removedOn": "2022-10-05"}]
    first = (await query(pool, ISSUE, v=V2051))["cplIssue"]
    assert {e["listedOn"] for e in first["added"]} == {"2022-09-21"}
    assert (await query(pool, ISSUE, v="Version 9.999"))["cplIssue"] is None


async def test_a_row_without_an_issue_is_stated_on_the_import_day(db: Db, tmp_path: Path) -> None:
    row = generated_row(7, version="draft list")
    await import_cpl(
        db, CplWorkbook(write_cpl(tmp_path / "x.csv", [row])), actor="s", organisation=None, today=IMPORT_DAY
    )
    entry = await db.fetchrow("select listed_on, listed_in from cpl_entries where number = 7")
    assert (entry["listed_on"], entry["listed_in"]) == (IMPORT_DAY, None)
    assert await db.fetchval("select count(*) from cpl_issues") == 0


async def test_an_unreadable_version_argument(pool: asyncpg.Pool) -> None:
    result = await execute(SCHEMA, pool, ISSUE, ANONYMOUS, v="latest")
    [error] = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "version"}


async def test_the_export_names_the_issue_each_row_came_from(db: Db, tmp_path: Path) -> None:
    await import_cpl(
        db,
        CplWorkbook(write_cpl(tmp_path / "v1.csv", generated_rows(range(100, 103)))),
        actor="s",
        organisation=None,
    )
    newer = [
        generated_row(100, version=V2052),  # unchanged: still as 2.051 stated it
        generated_row(101, version=V2052, status="Removed"),
        generated_row(103, version=V2052),
    ]
    await import_cpl(db, CplWorkbook(write_cpl(tmp_path / "v2.csv", newer)), actor="s", organisation=None)
    out = tmp_path / "fir.csv"
    await export_fir(db, out)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(r["Entry.number"]): r["Version"] for r in rows} == {
        100: V2051,
        101: V2052,
        102: V2051,
        103: V2052,
    }


async def test_an_older_issue_does_not_undo_a_newer_one(db: Db, pool: asyncpg.Pool, tmp_path: Path) -> None:
    """2.052 removed entry 101; 2.051 imported again (a file sent twice, an archive replayed) must not
    put it back to Current, where its release would be `latest` again. The row is a problem; the
    rows that change nothing go through."""

    async def imported(name: str, rows: list[Any]) -> Any:
        cpl = CplWorkbook(write_cpl(tmp_path / name, rows))
        return await import_cpl(db, cpl, actor="s", organisation=None, today=IMPORT_DAY)

    await imported("v1.csv", generated_rows(range(100, 103)))
    await imported("v2.csv", [generated_row(101, version=V2052, status="Removed")])
    again = await imported("v1-again.csv", generated_rows(range(100, 103)))
    statuses = dict(await db.fetch("select number, status::text from cpl_entries order by number"))
    assert statuses[101] == "REMOVED"
    [problem] = [p for p in again.problems if p.row_number == 3]
    assert problem.column == "Version" and f"newer CPL issue ({V2052})" in problem.reason
    assert (again.updated, again.removed) == (0, 0)
    # a newer issue still re-lists it
    await imported("v3.csv", [generated_row(101, version="Version 2.053 Issued on 19-10-2022")])
    assert await db.fetchval("select status::text from cpl_entries where number = 101") == "CURRENT"
    # and 2.052 replayed after 2.053 re-listed it does not remove it again
    replayed = await imported("v2-again.csv", [generated_row(101, version=V2052, status="Removed")])
    assert await db.fetchval("select status::text from cpl_entries where number = 101") == "CURRENT"
    assert [p.row_number for p in replayed.problems] == [2] and replayed.removed == 0


V2053 = "Version 2.053 Issued on 19-10-2022"


async def imported(db: Db, tmp_path: Path, name: str, rows: list[Any]) -> Any:
    cpl = CplWorkbook(write_cpl(tmp_path / name, rows))
    return await import_cpl(db, cpl, actor="s", organisation=None, today=IMPORT_DAY)


async def entry(db: Db, number: int) -> tuple[Any, ...]:
    found = await db.fetchrow(
        "select status::text, listed_on::text, listed_in, removed_on::text, removed_in from cpl_entries"
        " where number = $1",
        number,
    )
    return tuple(found)


async def test_a_skipped_issue_imported_late_does_not_undo_a_newer_one_that_changed_nothing(
    db: Db, tmp_path: Path
) -> None:
    """2.051 lists 101, 2.052 removes it, 2.053 lists it again. Imported 2.051, 2.053 (unchanged: it
    says Current too), then the skipped 2.052: the entry stays Current, as the newest issue says, and
    the row is a problem naming 2.053. Judged by its last change only (2.051), it was removed."""
    await imported(db, tmp_path, "v1.csv", [generated_row(101)])
    newest = await imported(db, tmp_path, "v3.csv", [generated_row(101, version=V2053)])
    assert newest.unchanged == 1
    late = await imported(db, tmp_path, "v2.csv", [generated_row(101, version=V2052, status="Removed")])
    assert await entry(db, 101) == ("CURRENT", "2022-09-21", "2.051", None, None)
    [problem] = late.problems
    assert problem.column == "Version" and f"newer CPL issue ({V2053})" in problem.reason
    assert late.removed == 0


async def test_an_older_issue_that_agrees_moves_the_listing_earlier(
    db: Db, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await imported(db, tmp_path, "v2.csv", [generated_row(102, version=V2052)])
    backfill = await imported(db, tmp_path, "v1.csv", [generated_row(102)])
    assert await entry(db, 102) == ("CURRENT", "2022-09-21", "2.051", None, None)
    assert (backfill.updated, backfill.unchanged) == (1, 0)  # a change of the entry: audited
    changes = {v: (await query(pool, CHANGES, v=v))["cplIssue"]["added"] for v in ("2.051", "2.052")}
    assert changes == {"2.051": [{"number": 102}], "2.052": []}
    [audit] = await db.fetch("select before, after from audit_events where action = 'cplEntry.update'")
    assert (audit["before"]["listed_on"], audit["after"]["listed_on"]) == ("2022-10-05", "2022-09-21")
    # the same issue again moves nothing
    again = await imported(db, tmp_path, "v1-again.csv", [generated_row(102)])
    assert (again.updated, again.unchanged) == (0, 1)


async def test_an_older_issue_moves_a_removal_earlier_but_not_before_a_current_statement(
    db: Db, tmp_path: Path
) -> None:
    """2.051 Current, 2.052 Removed, 2.053 Removed, imported 2.051, 2.053, 2.052: removed in 2.052.
    Then 2.051 again, and an issue older than it saying Removed: the removal stays, since 2.051 says
    Current after that older one."""
    await imported(db, tmp_path, "v1.csv", [generated_row(103)])
    await imported(db, tmp_path, "v3.csv", [generated_row(103, version=V2053, status="Removed")])
    assert await entry(db, 103) == ("REMOVED", "2022-09-21", "2.051", "2022-10-19", "2.053")
    late = await imported(db, tmp_path, "v2.csv", [generated_row(103, version=V2052, status="Removed")])
    assert late.updated == 1 and late.problems == []
    assert await entry(db, 103) == ("REMOVED", "2022-09-21", "2.051", "2022-10-05", "2.052")
    older = "Version 2.050 Issued on 07-09-2022"
    await imported(db, tmp_path, "v0.csv", [generated_row(103, version=older, status="Removed")])
    assert await entry(db, 103) == ("REMOVED", "2022-09-07", "2.050", "2022-10-05", "2.052")


async def test_an_entry_that_arrived_removed_moves_both_dates_earlier(db: Db, tmp_path: Path) -> None:
    await imported(db, tmp_path, "v3.csv", [generated_row(104, version=V2053, status="Removed")])
    await imported(db, tmp_path, "v2.csv", [generated_row(104, version=V2052, status="Removed")])
    assert await entry(db, 104) == ("REMOVED", "2022-10-05", "2.052", "2022-10-05", "2.052")


async def test_a_version_in_other_digits_is_no_issue_and_fails_no_import(db: Db, tmp_path: Path) -> None:
    """Python's \\d takes Arabic-Indic digits, and int() reads them: the issue number reached the
    database, whose check refused it, and the whole import failed. Such a row names no issue."""
    odd = "Version \u0662.\u0660\u0665\u0661 Issued on 21-09-2022"
    result = await imported(db, tmp_path, "odd.csv", [generated_row(1), generated_row(2, version=odd)])
    assert (result.added, result.problems) == (2, [])
    assert await db.fetchval("select listed_on from cpl_entries where number = 2") == IMPORT_DAY
