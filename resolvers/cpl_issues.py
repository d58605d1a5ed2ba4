"""CPL issues: the `Version` cell parsed into an issue number and date, and the issues' read rules."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from loaders import cpl_issues as sql
from loaders.rows import CplEntryRow, CplIssueRow
from resolvers.context import Context
from resolvers.errors import BadUserInput

_ISSUE = re.compile(
    r"\s*version\s+(?P<number>\d+(?:\.\d+)*)\s+issued\s+on\s+(?P<day>\d{1,2})[-/.](?P<month>\d{1,2})[-/.](?P<year>\d{4})\s*",
    re.IGNORECASE | re.ASCII,
)
# ASCII: \d would take any Unicode digit (Arabic-Indic ٢), which int() reads and the database refuses
_NUMBER = re.compile(r"\s*(?:version\s+)?(?P<number>\d+(?:\.\d+)*)\s*", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True, slots=True)
class Issue:
    number: str
    issued_on: dt.date
    title: str


def parse_issue(text: str | None) -> Issue | None:
    """`Version 2.051 Issued on 21-09-2022` (day first, as the CPL prints it); None when it is not one."""
    found = _ISSUE.fullmatch(text or "")
    if found is None:
        return None
    try:
        day = dt.date(int(found["year"]), int(found["month"]), int(found["day"]))
    except ValueError:
        return None
    return Issue(found["number"], day, " ".join((text or "").split()))


def issue_number(version: str) -> str:
    """The number a client names an issue by: `2.051`, `Version 2.051` or the whole Version cell."""
    issue = parse_issue(version)
    if issue is not None:
        return issue.number
    found = _NUMBER.fullmatch(version)
    if found is None:
        raise BadUserInput("version must be a CPL issue number such as 2.051", field="version")
    return found["number"]


async def issues(ctx: Context) -> list[CplIssueRow]:
    return await sql.issues(ctx.loaders.db)


async def issue(ctx: Context, version: str) -> CplIssueRow | None:
    return await sql.issue(ctx.loaders.db, issue_number(version))


async def added(ctx: Context, issue: CplIssueRow) -> list[CplEntryRow]:
    return await sql.entries_listed_in(ctx.loaders.db, issue.number)


async def removed(ctx: Context, issue: CplIssueRow) -> list[CplEntryRow]:
    return await sql.entries_removed_in(ctx.loaders.db, issue.number)
