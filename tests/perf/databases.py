"""The benchmark databases: one PostgreSQL (embedded or FIR_BENCH_DATABASE_URL), a database per demo scale."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from gateway.database import DatabaseHandle, start_embedded
from loaders.demo import Identity, demo_identities, load_demo_data
from loaders.migrate import migrate


@contextlib.contextmanager
def postgres() -> Iterator[DatabaseHandle]:
    """FIR_BENCH_DATABASE_URL (a maintenance database we may create databases from), else an embedded one."""
    external = os.environ.get("FIR_BENCH_DATABASE_URL")
    if external:
        yield DatabaseHandle(url=external)
        return
    with tempfile.TemporaryDirectory(prefix="fir-bench-pg-") as tmp:
        os.chmod(tmp, 0o755)  # as tests/conftest.py: the server must traverse its parent
        handle = start_embedded(Path(tmp))
        try:
            yield handle
        finally:
            handle.close()


def database_url(server_url: str, name: str) -> str:
    """The server's URL pointing at database `name` (socket and TCP URLs alike)."""
    head, sep, query = server_url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}"


async def migrated_database(server_url: str, name: str) -> str:
    """Database `name` created afresh (dropped first if it exists) and migrated; its URL."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    url = database_url(server_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def demo_database(server_url: str, scale: int) -> tuple[str, float]:
    """A fresh database holding demo data at `scale`, and the seconds the load took."""
    url = await migrated_database(server_url, f"fir_bench_scale_{scale}")
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        await load_demo_data(conn, scale=scale)
        # Fresh tables have no statistics yet; a served database would have been analysed by autovacuum.
        await conn.execute("analyze")
        return url, time.perf_counter() - started
    finally:
        await conn.close()


async def identities(url: str, n: int) -> list[Identity]:
    conn = await asyncpg.connect(url)
    try:
        return await demo_identities(conn, n)
    finally:
        await conn.close()


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("show server_version"))
    finally:
        await conn.close()
