"""CPL issues: the numbered editions of the CPL, and what each one added and removed (public, as the CPL is)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

import strawberry
from strawberry.types import Info

from loaders.rows import CplIssueRow
from resolvers import cpl_issues as rules
from resolvers.context import Context
from schema import from_rows
from schema.catalogue import CplEntry
from schema.sizes import ISSUE_ENTRIES

Ctx = Info[Context, Any]


@strawberry.type(description="One issue of the CPL, e.g. `Version 2.051 Issued on 21-09-2022`.")
class CplIssue:
    version: str = strawberry.field(description="The issue number, e.g. 2.051.")
    title: str = strawberry.field(description="The Version cell as the CPL prints it.")
    issued_on: dt.date
    row: strawberry.Private[CplIssueRow]
    from_row: ClassVar[Callable[[CplIssueRow], CplIssue]]

    @strawberry.field(directives=[ISSUE_ENTRIES], description="Entries this issue listed first, by number.")
    async def added(self, info: Ctx) -> list[CplEntry]:
        return [CplEntry.from_row(r) for r in await rules.added(info.context, self.row)]

    @strawberry.field(directives=[ISSUE_ENTRIES], description="Entries this issue marked Removed, by number.")
    async def removed(self, info: Ctx) -> list[CplEntry]:
        return [CplEntry.from_row(r) for r in await rules.removed(info.context, self.row)]


CplIssue.from_row = from_rows.derive(CplIssue, CplIssueRow, renamed={"version": "number"})


async def cpl_issues(info: Ctx) -> list[CplIssue]:
    return [CplIssue.from_row(r) for r in await rules.issues(info.context)]


async def cpl_issue(info: Ctx, version: str) -> CplIssue | None:
    row = await rules.issue(info.context, version)
    return CplIssue.from_row(row) if row else None
