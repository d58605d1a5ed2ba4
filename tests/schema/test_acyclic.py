"""A finished request leaves no reference cycle: its executor, context and DataLoaders are freed at once."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import asyncpg
import pytest
from aiodataloader import DataLoader
from graphql import parse
from graphql.execution import Executor

from schema.schema import build_schema
from schema.slices import SlicedExecutor
from tests.builders import SUPPLIER, execute

SCHEMA = build_schema()
QUERY = """query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl lineage { version } }
  cplEntries(first: 5) { nodes { number model { name manufacturer { name } } } } }"""
IDENTITY = {
    "manufacturerId": "106C",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "124074DA",
}


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable while the test runs, kept for inspection."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def test_requests_leave_nothing_for_the_collector(
    pool: asyncpg.Pool, saved_garbage: list[object]
) -> None:
    for _ in range(3):
        result = await execute(SCHEMA, pool, QUERY, SUPPLIER, id=IDENTITY)
        assert result.errors is None, result.errors
    del result
    gc.collect()
    kept = [type(o).__name__ for o in saved_garbage if isinstance(o, Executor | DataLoader)]
    assert kept == []


async def test_the_async_work_helpers_still_gather_and_settle() -> None:
    executor = SlicedExecutor.build(SCHEMA._schema, parse("{ __typename }"))
    assert isinstance(executor, SlicedExecutor)

    async def value(n: int) -> int:
        await asyncio.sleep(0)
        return n

    async def fails() -> None:
        raise ValueError("settled in the background, not lost")

    assert await executor.async_helpers.gather([value(1), value(2)]) == [1, 2]
    executor.async_helpers.track([fails(), 3])
    [background] = executor.background_futures
    assert isinstance((await background)[0], ValueError)
