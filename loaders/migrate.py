"""Ordered SQL migrations, each applied in its own transaction and recorded in `fir_schema_migrations`."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import asyncpg

# Any constant will do: it serialises concurrent `fir migrate` runs (several replicas starting at once).
_LOCK_ID = 0x0F1A_0001


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str


def available() -> list[Migration]:
    folder = resources.files("loaders") / "migrations"
    files = sorted(
        (f for f in folder.iterdir() if f.name.endswith(".sql")),
        key=lambda f: f.name,
    )
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def applied(conn: asyncpg.Connection) -> set[str]:
    exists = await conn.fetchval("select to_regclass('fir_schema_migrations') is not null")
    if not exists:
        return set()
    return {r["version"] for r in await conn.fetch("select version from fir_schema_migrations")}


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply what is missing, in order; returns the versions applied now (empty when up to date)."""
    await conn.execute("select pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(
            "create table if not exists fir_schema_migrations ("
            " version text primary key, applied_at timestamptz not null default now())"
        )
        done = await applied(conn)
        newly: list[str] = []
        for m in available():
            if m.version in done:
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute("insert into fir_schema_migrations (version) values ($1)", m.version)
            newly.append(m.version)
        return newly
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK_ID)
