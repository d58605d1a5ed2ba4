"""Fixtures the schema tests share."""

from __future__ import annotations

import asyncpg
import pytest

from tests.builders import Builder


@pytest.fixture
async def seeded(pool: asyncpg.Pool) -> asyncpg.Pool:
    """One manufacturer, one model and one published release: enough for a device to be found."""
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01")
    return pool
