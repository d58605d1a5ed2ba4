"""A fleet check of a file: load it (DuckDB), resolve its distinct identities (fleetStatus's rules), write the report."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resolvers.context import Context
from resolvers.fleet_report import FleetReport, check_fleet
from spreadsheets.fleet_files import open_fleet
from spreadsheets.fleet_reports import first_problems, report_kind, write_report

# (stage, rows so far or None): "reading", "checking", "writing", "done"; a server's records it (async)
Stage = Callable[[str, int | None], Awaitable[None] | None]
STAGES = ("reading", "checking", "writing", "done")
SHOWN_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class FileCheck:
    report: FleetReport
    problems: list[dict[str, Any]]  # the first malformed rows: row, ref, field, message
    files: list[Path]


async def check_file(
    ctx: Context, source: Path, target: Path, *, memory_limit: str = "512MB", progress: Stage | None = None
) -> FileCheck:
    """DuckDB's work runs in a thread: a server's event loop keeps serving while a big file is read."""
    report_kind(target)  # refuse a bad report name before reading millions of rows

    async def show(stage: str, rows: int | None) -> None:
        said = progress(stage, rows) if progress is not None else None
        if inspect.isawaitable(said):
            await said

    await show("reading", None)
    with contextlib.ExitStack() as stack:
        fleet = await asyncio.to_thread(stack.enter_context, open_fleet(source, memory_limit, target.parent))
        await show("checking", fleet.rows)
        raw = await asyncio.to_thread(fleet.raw_groups)
        report = await check_fleet(ctx, raw, fleet.rows)
        await show("writing", fleet.rows)
        files = await asyncio.to_thread(write_report, fleet, report, target)
        problems = await asyncio.to_thread(first_problems, fleet, SHOWN_PROBLEMS)
    await show("done", report.result.total)
    return FileCheck(report, problems, files)
