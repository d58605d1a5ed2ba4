"""`fir fleet-check`: a meter file checked on the local database, or streamed to a gateway's /fleet-checks."""

from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table

from gateway.fleet_client import FleetCheckClient, FleetRemoteError
from gateway.settings import Settings
from loaders.db import Db
from loaders.registry import build_loaders
from resolvers.context import Context
from resolvers.principal import READ, Principal
from spreadsheets.fleet_check import STAGES, check_file
from spreadsheets.fleet_files import FleetFileError, file_kind
from spreadsheets.fleet_reports import report_kind


def local_principal() -> Principal:
    """A supplier's view of the local database: the published FIR, contacts included, no drafts."""
    user = getpass.getuser()
    return Principal(subject=f"cli:{user}", scopes=frozenset({READ}), organisation="local")


def fleet_check(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="meters: .csv, .parquet or .xlsx")
    ],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="the report: .xlsx, .csv or .parquet")],
    url: Annotated[
        str | None, typer.Option(help="a FIR gateway to send the file to (default FIR_URL)")
    ] = None,
    token: Annotated[str | None, typer.Option(help="its bearer token, fir:read (default FIR_TOKEN)")] = None,
    json: Annotated[bool, typer.Option("--json", help="last line: the summary as one JSON object")] = False,
) -> None:
    """Check a whole fleet from a file: per device its status, latest version and upgrade path."""
    from gateway.cli import _settings, console

    settings = _settings()
    try:
        file_kind(file)
        report_kind(out)
    except FleetFileError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    if out.resolve() == file.resolve():
        console.print(f"[red]--out {out} is the fleet file itself: the report would replace it[/red]")
        raise typer.Exit(2)
    remote = url or settings.fir_url
    try:
        if remote:
            summary = _remote(console, settings, file, out, remote, token)
        else:
            summary = _local(console, settings, file, out)
    except (FleetFileError, FleetRemoteError, httpx.HTTPError) as error:
        console.print(f"[red]{file}: {error}[/red]", highlight=False)
        raise typer.Exit(1) from None
    _print_summary(console, summary, out)
    if json:
        sys.stdout.write(orjson.dumps(summary["summary"]).decode() + "\n")


def _local(console: Console, settings: Settings, file: Path, out: Path) -> dict[str, Any]:
    from gateway.cli import _run_with_pool

    async def work(db: Db) -> dict[str, Any]:
        ctx = Context(principal=local_principal(), loaders=build_loaders(db))
        with stage_bar(console) as show:
            done = await check_file(ctx, file, out, memory_limit=settings.fleet_memory_limit, progress=show)
        return {"summary": done.report.summary(), "problems": done.problems}

    return _run_with_pool(settings, work)


def _remote(
    console: Console, settings: Settings, file: Path, out: Path, url: str, token: str | None
) -> dict[str, Any]:
    bearer = token or (str(settings.fir_token) if settings.fir_token else None)
    if not bearer:
        console.print("[red]a remote fleet check needs a fir:read token: --token or FIR_TOKEN[/red]")
        raise typer.Exit(2)
    with stage_bar(console) as show:
        found: dict[str, Any] = FleetCheckClient(url, bearer).run(file, out, progress=show)
    return found


@contextlib.contextmanager
def stage_bar(console: Console) -> Iterator[Callable[[str, int | None], None]]:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("fleet check", total=len(STAGES) - 1)

        def show(stage: str, rows: int | None) -> None:
            done = STAGES.index(stage) if stage in STAGES else 0
            label = f"{stage} ({rows:,} rows)" if rows is not None else stage
            bar.update(task, completed=done, description=label)

        yield show


def _print_summary(console: Console, result: dict[str, Any], out: Path) -> None:
    table = Table("measure", "devices", title=f"fleet check: {out}")
    for name, count in result["summary"].items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    shown = result.get("problems") or []
    if shown:
        problems = Table(
            "row", "field", "problem", title=f"malformed rows (first {len(shown)}; all in the report)"
        )
        for p in shown:
            problems.add_row(str(p.get("row", "")), p.get("field") or "", p.get("message") or "")
        console.print(problems)
