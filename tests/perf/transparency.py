"""`python -m tests.perf.transparency`: proof latency on a 1,000,000-leaf log; publish throughput with and without it."""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from typing import Any

import asyncpg

from loaders.db import Db, create_pool
from loaders.migrate import migrate
from resolvers import merkle, transparency
from resolvers import unit_of_work as uow
from schema.schema import build_schema
from tests.builders import SECAS, Builder, execute, listing_input, submission_input
from tests.perf.databases import database_url, postgres

LEAVES = 1_000_000
PROOFS = 1000
PUBLICATIONS = 300


async def fresh(server_url: str, name: str) -> str:
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


async def big_log(url: str) -> None:
    """A 1,000,000-leaf log written as appends would write it (leaves and complete subtrees), by COPY."""
    leaves = [b'{"bench":%d}' % i for i in range(LEAVES)]
    nodes = merkle.new_nodes(0, {}, [merkle.leaf_hash(x) for x in leaves])
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "tlog_leaves",
            records=[(i, x, "Bench", str(i)) for i, x in enumerate(leaves)],
            columns=["idx", "leaf", "entity_type", "entity_id"],
        )
        await conn.copy_records_to_table("tlog_nodes", records=[(lv, i, h) for (lv, i), h in nodes.items()])
        await conn.execute("analyze")
    finally:
        await conn.close()


async def proof_latency(url: str) -> dict[str, float]:
    pool = await create_pool(url, min_size=1, max_size=2)
    db, rng = Db(pool), random.Random(17)
    inclusion: list[float] = []
    consistency: list[float] = []
    try:
        for _ in range(PROOFS):
            index = rng.randrange(LEAVES)
            started = time.perf_counter()
            await transparency.inclusion(db, index, LEAVES)
            inclusion.append((time.perf_counter() - started) * 1000)
            old = rng.randrange(1, LEAVES)
            started = time.perf_counter()
            await transparency.consistency(db, old, LEAVES)
            consistency.append((time.perf_counter() - started) * 1000)
    finally:
        await pool.close()
    return {**_ms("inclusion", inclusion), **_ms("consistency", consistency)}


def _ms(name: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {f"{name} p50": statistics.median(ordered), f"{name} p99": ordered[int(len(ordered) * 0.99)]}


async def publish_rate(url: str, with_log: bool) -> float:
    """Listings and submissions per second, sequential, through the schema as a mutation runs them."""
    if not with_log:
        uow.CONSUMERS = tuple(c for c in uow.CONSUMERS if c is not uow.append_to_log)
    schema = build_schema()
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await Builder(conn).manufacturer("106C")
            await Builder(conn).model("106C", "4331", "CHF")
        started = time.perf_counter()
        for n in range(1, PUBLICATIONS + 1):
            version = f"{n:08X}"
            await _ok(
                schema,
                pool,
                "mutation($i: CplEntryInput!) { listCplEntry(input: $i) { number } }",
                i=listing_input(n, version),
            )
            await _ok(
                schema,
                pool,
                "mutation($i: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $i) { id } }",
                i=submission_input(version),
            )
        return PUBLICATIONS / (time.perf_counter() - started)
    finally:
        await pool.close()


async def _ok(schema: Any, pool: asyncpg.Pool, query: str, **variables: Any) -> None:
    result = await execute(schema, pool, query, SECAS, **variables)
    assert result.errors is None, result.errors


async def measure(server_url: str) -> dict[str, float]:
    with_log = await publish_rate(await fresh(server_url, "fir_bench_log_on"), with_log=True)
    without = await publish_rate(await fresh(server_url, "fir_bench_log_off"), with_log=False)
    url = await fresh(server_url, "fir_bench_log_big")
    started = time.perf_counter()
    await big_log(url)
    built = time.perf_counter() - started
    latency = await proof_latency(url)
    return {
        "publish/s with log": with_log,
        "publish/s without log": without,
        "build 1M log s": built,
        **latency,
    }


def main() -> None:
    with postgres() as pg:
        figures = asyncio.run(measure(pg.url))
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
