"""Shared fixtures: one embedded PostgreSQL per test session, a fresh migrated database per test module."""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from gateway.database import DatabaseHandle, start_embedded
from loaders.db import Db, create_pool
from loaders.migrate import migrate

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[DatabaseHandle]:
    """An embedded PostgreSQL, or the server named by FIR_TEST_DATABASE_URL (a maintenance database)."""
    external = os.environ.get("FIR_TEST_DATABASE_URL")
    if external:
        yield DatabaseHandle(url=external)
        return
    with tempfile.TemporaryDirectory(prefix="fir-test-") as tmp:
        os.chmod(tmp, 0o755)
        handle = start_embedded(Path(tmp))
        try:
            yield handle
        finally:
            handle.close()


@pytest.fixture(scope="session")
async def template_db(pg_server: DatabaseHandle) -> str:
    """A migrated template database; every test database is a cheap copy of it."""
    name = f"fir_template_{os.getpid()}"
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f'drop database if exists "{name}"')
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(database_url(pg_server.url, name))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return name


def database_url(server_url: str, name: str) -> str:
    """The server's URL pointing at database `name` (works for socket and TCP URLs)."""
    head, sep, query = server_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}{sep}{query}"


async def fresh_database(server_url: str, template: str) -> str:
    name = f"fir_test_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'create database "{name}" template "{template}"')
    finally:
        await admin.close()
    return database_url(server_url, name)


@pytest.fixture
async def db_url(pg_server: DatabaseHandle, template_db: str) -> str:
    """A fresh, migrated, empty database for one test."""
    return await fresh_database(pg_server.url, template_db)


async def _pool_of(db_url: str, size: int) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=1, max_size=size)
    try:
        yield p
    finally:
        await asyncio.wait_for(p.close(), 10)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    async for p in _pool_of(db_url, 8):
        yield p


@pytest.fixture
async def one_connection(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection: every statement runs on the same backend."""
    async for p in _pool_of(db_url, 1):
        yield p


@pytest.fixture
def db(pool: asyncpg.Pool) -> Db:
    return Db(pool)
