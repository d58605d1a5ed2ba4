"""SQL for CPL issues: recorded from the stage of a listing, read by number."""

from __future__ import annotations

from collections.abc import Sequence

from loaders import rows
from loaders.cpl import COLUMNS
from loaders.db import Db

_ISSUE_COLUMNS = "number, title, issued_on"


async def record_issues(
    db: Db, numbers: Sequence[str], titles: Sequence[str], days: Sequence[object]
) -> None:
    """Issues seen for the first time; an issue already known keeps its first title and date."""
    if numbers:
        await db.execute(
            "insert into cpl_issues (number, title, issued_on)"
            " select * from unnest($1::text[], $2::text[], $3::date[]) on conflict do nothing",
            list(numbers),
            list(titles),
            list(days),
        )


async def issues(db: Db) -> list[rows.CplIssueRow]:
    found = await db.fetch(f"select {_ISSUE_COLUMNS} from cpl_issues order by issued_on, number")
    return [rows.cpl_issue(r) for r in found]


async def issue(db: Db, number: str) -> rows.CplIssueRow | None:
    found = await db.fetchrow(f"select {_ISSUE_COLUMNS} from cpl_issues where number = $1", number)
    return rows.cpl_issue(found) if found else None


async def entries_listed_in(db: Db, number: str) -> list[rows.CplEntryRow]:
    found = await db.fetch(f"select {COLUMNS} from cpl_entries where listed_in = $1 order by number", number)
    return [rows.cpl_entry(r) for r in found]


async def entries_removed_in(db: Db, number: str) -> list[rows.CplEntryRow]:
    found = await db.fetch(f"select {COLUMNS} from cpl_entries where removed_in = $1 order by number", number)
    return [rows.cpl_entry(r) for r in found]
