"""`fir log audit` and `fir verify`: the transparency log from the command line (verify needs only the public key)."""

from __future__ import annotations

import base64
import csv
import getpass
import os
import sys
import zipfile
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer
from rich.console import Console

from resolvers.checkpoints import NoteError, VerifierKey, parse_verifier_key

log_app = typer.Typer(help="The transparency log.", no_args_is_help=True)
verify_app = typer.Typer(help="Verify FIR data offline with the log's public key.", no_args_is_help=True)
console = Console(stderr=True)

KeyOption = Annotated[
    Path, typer.Option("--public-key", "-k", help="the log's key, as GET /log/public-key serves it")
]


@log_app.command("audit")
def audit() -> None:
    """Recompute the whole tree from the leaves; compare with the stored nodes and the newest checkpoint."""
    from gateway.cli import _run_with_pool, _settings
    from gateway.log_signer import signing_key, verifier_key
    from resolvers import transparency
    from resolvers.checkpoints import open_checkpoint

    settings = _settings()
    result = _run_with_pool(settings, transparency.audit)
    problems = list(result.problems)
    note = _run_with_pool(settings, _latest_note)
    if note is not None:
        try:
            open_checkpoint(note, verifier_key(settings, signing_key(settings)))
        except NoteError as error:
            problems.append(f"the newest checkpoint: {error}")
    root = base64.b64encode(result.root_hash).decode()
    _report(
        problems,
        f"log of {result.tree_size} leaves, root {root}, newest checkpoint size {result.checkpoint_size}",
    )


@log_app.command("keygen")
def keygen(
    path: Annotated[Path, typer.Argument(help="where the private key goes (PKCS#8 PEM, mode 0600)")],
) -> None:
    """Make the log's Ed25519 signing key for FIR_LOG_SIGNING_KEY_FILE; an existing key is kept, never replaced."""
    from gateway.cli import _settings
    from gateway.log_signer import generate_key_file, load_key, verifier_key

    made = generate_key_file(path)
    try:
        key = load_key(path.read_bytes())
    except (ValueError, RuntimeError) as error:
        console.print(f"[red]{path} is not an Ed25519 private key: {error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"{'made' if made else 'kept the existing'} signing key {path}")
    print(verifier_key(_settings(), key).text())


@log_app.command("backfill")
def backfill(
    actor: Annotated[
        str | None, typer.Option(help="who runs it, for the audit log (default: cli:<login name>)")
    ] = None,
) -> None:
    """Append a leaf for every published fact that has none (a database from before the log); idempotent."""
    from gateway.cli import _progress_bar, _run_with_pool, _settings
    from loaders.audit import Actor
    from resolvers import log_backfill
    from resolvers.transparency import LeafTooLarge

    settings = _settings()

    async def work(db: Any) -> int:
        with _progress_bar("leaves") as advance:
            return await log_backfill.backfill(db, Actor(actor or default_actor(), None), advance)

    try:
        appended = _run_with_pool(settings, work)
    except LeafTooLarge as error:
        console.print(f"{error.message}: nothing appended", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    sys.stdout.write(
        f"OK: appended {appended} leaves\n" if appended else "OK: every published fact has a leaf\n"
    )


def default_actor() -> str:
    """`cli:<login name>`; where the uid has no passwd entry and USER/LOGNAME are unset, `cli:uid<N>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # getpwuid's KeyError (OSError from Python 3.13 on)
        return f"cli:uid{os.getuid()}"


async def _latest_note(db: Any) -> str | None:
    from loaders import tlog

    row = await tlog.latest_checkpoint(db)
    return None if row is None else row.note


@verify_app.command("checkpoint")
def verify_checkpoint(
    stored: Annotated[Path, typer.Argument(help="the checkpoint you stored earlier")],
    new: Annotated[Path, typer.Argument(help="the newer checkpoint")],
    public_key: KeyOption,
    proof: Annotated[
        Path | None, typer.Option(help="GET /log/proof/consistency?from=OLD&to=NEW, saved")
    ] = None,
) -> None:
    """The newer checkpoint is signed and the log only grew since the stored one."""
    from resolvers.log_verify import check_growth

    consistency = None if proof is None else _json_of(proof)
    problems = check_growth(_key(public_key), _text_of(stored), _text_of(new), consistency)
    _report(problems, "the log only grew")


@verify_app.command("answer")
def verify_answer(
    answer: Annotated[Path, typer.Argument(help="a saved GraphQL answer (e.g. device(...)) asking `proof`")],
    public_key: KeyOption,
) -> None:
    """Every record of the answer that carries a proof is in the signed log and says what the log says."""
    from resolvers.log_verify import check_answer

    checked, problems = check_answer(_key(public_key), _json_of(answer))
    if checked == 0:
        problems.append(
            "the answer carries no proof (ask `proof { leafIndex treeSize leaf inclusionPath checkpoint }`)"
        )
    _report(problems, f"{checked} records verified")


@verify_app.command("export")
def verify_export(
    export: Annotated[Path, typer.Argument(help="an exported FIR spreadsheet (xlsx or csv)")],
    public_key: KeyOption,
    strict: Annotated[
        bool,
        typer.Option(
            help="also fail rows whose release or contacts log columns are empty (listed as NOT VERIFIED)"
        ),
    ] = False,
) -> None:
    """Every logged fact each row shows (entry, release, firmware contact) is in the signed log, and agrees."""
    from resolvers.export_verify import check_export
    from spreadsheets.fir_files import NotAnExport, read_fir_rows

    key = _key(public_key)
    try:
        checked, problems, unproven = check_export(key, read_fir_rows(export))
    except NotAnExport as error:
        _report([f"file: {error}"], "")
        return
    except (OSError, ValueError, zipfile.BadZipFile, csv.Error) as error:  # no file, not csv nor xlsx
        _unreadable(export, error)
    if strict:
        _report([*problems, *unproven], f"{checked} rows verified")
        return
    for u in unproven:
        console.print(f"NOT VERIFIED {u}", highlight=False, markup=False, soft_wrap=True)
    _report(
        problems, f"{checked} rows verified" + (f", {len(unproven)} facts not verified" if unproven else "")
    )


def _key(path: Path) -> VerifierKey:
    try:
        return parse_verifier_key(_text_of(path))
    except NoteError as error:
        console.print(str(error), highlight=False, markup=False)
        raise typer.Exit(2) from None


def _text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        _unreadable(path, error)


def _json_of(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        _unreadable(path, error)


def _unreadable(path: Path, error: Exception) -> NoReturn:
    """A file that cannot be read: one line naming it and why, exit 2, never a traceback."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
    console.print(f"cannot read {path}: {reason}", highlight=False, markup=False)
    raise typer.Exit(2)


def _report(problems: list[str], success: str) -> None:
    for p in problems:
        console.print(f"FAILED {p}", highlight=False, markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    sys.stdout.write(f"OK: {success}\n")
