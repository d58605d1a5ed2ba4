"""The response cache and a lagging replica on a database with history: the cache's data version, not
its count of clears, decides whether a replica's answer may be kept and whether a writer's token is
covered. On a fresh database the two numbers stay close, which hid the difference."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx
import pytest

from gateway.cache import covers
from gateway.cache_store import CacheKey, ResponseCache
from gateway.replicas import ReadAfter
from tests.builders import Builder
from tests.e2e.replication import streaming_pair
from tests.e2e.server import serving

READ = "query($id: String!) { manufacturer(manufacturerId: $id) { name } }"
HISTORY = 500  # write statements the database saw before this gateway started

pytestmark = pytest.mark.timeout(240)


def test_a_token_is_covered_by_the_cache_data_version_not_its_clears() -> None:
    cache = ResponseCache(100, 1 << 20)
    cache.reset(5)
    for version in range(6, 26):  # 20 mutations through this process: its own clear, then the notice
        cache.invalidate()
        cache.advance(version)
    assert cache.generation > 26 > cache.version  # two different numbers
    assert not covers(cache.version, ReadAfter(lsn=1, data_version=26))  # a write it never heard of
    assert covers(cache.version, ReadAfter(lsn=1, data_version=25))
    cache.put(CacheKey("{ q }", None, b"", "anonymous|"), b"{}", cache.generation)
    assert len(cache) == 1


async def replayed(primary_url: str, replica_url: str) -> None:
    primary, replica = await asyncpg.connect(primary_url), await asyncpg.connect(replica_url)
    try:
        target = await primary.fetchval("select pg_current_wal_lsn()")
        async with asyncio.timeout(30):
            while not await replica.fetchval("select pg_last_wal_replay_lsn() >= $1::pg_lsn", target):
                await asyncio.sleep(0.05)
    finally:
        await primary.close()
        await replica.close()


async def ask(http: httpx.AsyncClient) -> tuple[str, str]:
    response = await http.post("/graphql", json={"query": READ, "variables": {"id": "B001"}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["manufacturer"]["name"], response.headers["x-fir-cache"]


def test_a_lagging_replicas_answer_is_not_kept_past_its_lag() -> None:
    """A write while the replica's replay is paused: the replica's old answer may be served while it
    lags (a miss), but not stored; once it has replayed, every answer is the new one."""
    with streaming_pair() as (primary_url, replica), tempfile.TemporaryDirectory(prefix="fir-rcv-") as tmp:
        os.chmod(tmp, 0o755)
        env = {**os.environ, "DATABASE_URL": primary_url}
        subprocess.run([sys.executable, "-m", "gateway", "migrate"], env=env, check=True, capture_output=True)

        async def seed() -> None:
            conn = await asyncpg.connect(primary_url)
            await conn.execute(f"update data_version set version = version + {HISTORY}")
            await Builder(conn).manufacturer("B001", "Old Name Ltd")
            await conn.close()

        asyncio.run(seed())
        with serving(
            Path(tmp),
            DATABASE_URL=primary_url,
            FIR_DATABASE_READ_URLS=replica.url(),
            FIR_REPLICA_CHECK_INTERVAL="0.1",
            FIR_REPLICA_MAX_LAG_MS="120000",
            FIR_REPLICA_WAIT_MS="300",
        ) as (_proc, base):

            async def scenario() -> list[tuple[str, str]]:
                await replayed(primary_url, replica.url())
                await asyncio.sleep(1.0)  # the gateway's replica checks see it caught up
                async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                    paused = await asyncpg.connect(replica.url())
                    await paused.execute("select pg_wal_replay_pause()")
                    try:
                        primary = await asyncpg.connect(primary_url)
                        await primary.execute(
                            "update manufacturers set name = 'New Name Ltd' where manufacturer_id = 'B001'"
                        )
                        await primary.close()
                        await asyncio.sleep(0.5)  # the gateway hears the notice
                        assert await ask(http) == ("Old Name Ltd", "miss")  # within the lag bounds
                    finally:
                        await paused.execute("select pg_wal_replay_resume()")
                        await paused.close()
                    await replayed(primary_url, replica.url())
                    await asyncio.sleep(1.0)
                    return [await ask(http) for _ in range(3)]

            answers = asyncio.run(scenario())
    assert [name for name, _ in answers] == ["New Name Ltd"] * 3, answers
