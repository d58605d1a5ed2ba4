"""Result building in slices: the same answers, and the loop keeps turning while a large one is built."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import strawberry

from schema.compiled.executor import CompiledExecutor
from schema.slices import GATHER_CHUNK, SlicedExecutor, gather_in_chunks

# the compiled executor cuts its lists into the same slices (schema.compiled.run.ListRun)
EXECUTORS = pytest.mark.parametrize("executor", [SlicedExecutor, CompiledExecutor], ids=["core", "compiled"])


@strawberry.type
class Item:
    a: int
    b: str
    c: float
    d: bool


def make_items(count: int) -> list[Item]:
    return [Item(a=i, b=str(i), c=i / 2, d=i % 2 == 0) for i in range(count)]


@strawberry.type
class Query:
    @strawberry.field
    def items(self, count: int) -> list[Item]:
        return make_items(count)

    @strawberry.field
    def grid(self, count: int) -> list[list[Item]]:
        return [make_items(count) for _ in range(count)]

    @strawberry.field
    async def slow_items(self, count: int) -> list[Item]:
        await asyncio.sleep(0.05)
        return make_items(count)

    @strawberry.field
    async def one(self, i: int) -> int:
        return i


async def longest_stall(
    work: Callable[[], Awaitable[Any]], clock: Callable[[], float] = time.perf_counter
) -> tuple[Any, float, float, int]:
    """Run `work` while a ticker measures the longest the loop went without turning, and how often it turned.

    By `clock`: wall time by default; `time.thread_time` counts only the CPU the loop's thread spent
    between two turns, which a thread waiting for the GIL, or a busy machine descheduling it, does not
    stretch (on the loop, a parse is one turn of all of it). The elapsed time is wall time either way."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = clock()
        while not done.is_set():
            await asyncio.sleep(0)
            now = clock()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    before = len(gaps)
    started = time.perf_counter()
    result = await work()
    elapsed = time.perf_counter() - started
    turns = len(gaps) - before
    done.set()
    await ticker
    return result, max(gaps), elapsed, turns


ITEMS = "{ items(count: 40000) { a b c d } }"


@EXECUTORS
async def test_a_large_synchronous_answer_is_built_in_slices(executor: type[SlicedExecutor]) -> None:
    plain = strawberry.Schema(Query)
    sliced = strawberry.Schema(Query, execution_context_class=executor)
    expected, _, _, plain_turns = await longest_stall(lambda: plain.execute(ITEMS))
    result, _, _, sliced_turns = await longest_stall(lambda: sliced.execute(ITEMS))
    assert result.errors is None and result.data == expected.data
    # Counted in loop turns, not seconds: a shared machine's preemption stretches any wall-clock gap.
    assert plain_turns <= 2  # without slices: the whole execution is one turn of the loop
    assert sliced_turns >= 4, sliced_turns  # 20 ms CPU slices: several turns while 40,000 items build


@EXECUTORS
async def test_slices_restart_after_an_await(executor: type[SlicedExecutor]) -> None:
    """Time spent waiting (the database) is not counted against the next slice."""
    sliced = strawberry.Schema(Query, execution_context_class=executor)
    result = await sliced.execute("{ slowItems(count: 3) { a } one(i: 1) }")
    assert result.errors is None
    assert result.data == {"slowItems": [{"a": 0}, {"a": 1}, {"a": 2}], "one": 1}


@EXECUTORS
async def test_nested_lists_and_async_fields_answer_as_without_slices(executor: type[SlicedExecutor]) -> None:
    query = "{ grid(count: 300) { a b } items(count: 20000) { d } one(i: 2) }"
    sliced = strawberry.Schema(Query, execution_context_class=executor)
    plain = strawberry.Schema(Query)
    assert (await sliced.execute(query)).data == (await plain.execute(query)).data


async def test_gather_in_chunks_keeps_order_and_turns_the_loop() -> None:
    async def value(i: int) -> int:
        await asyncio.sleep(0)
        return i

    count = 3 * GATHER_CHUNK + 7
    results, _, _, _ = await longest_stall(lambda: gather_in_chunks(*(value(i) for i in range(count))))
    assert results == list(range(count))


async def test_gather_in_chunks_cancels_the_rest_on_the_first_error() -> None:
    started: list[int] = []

    async def failing(i: int) -> int:
        started.append(i)
        if i == 3:
            raise ValueError("boom")
        await asyncio.sleep(10)
        return i

    count = 3 * GATHER_CHUNK
    with pytest.raises(ValueError, match="boom"):
        await asyncio.wait_for(gather_in_chunks(*(failing(i) for i in range(count))), 5)
    # an early error stops the start of further chunks; those never started were closed, not
    # left to warn "never awaited" (which the test settings turn into a failure)
    assert len(started) < count
