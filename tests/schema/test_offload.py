"""Validation off the loop: the loop turns while a costly document validates, and a deadline stops the thread."""

from __future__ import annotations

import asyncio
import threading
import time
from functools import partial
from typing import Any

import pytest
import strawberry
from graphql import ValidationRule
from strawberry.extensions import AddValidationRules

from schema.offload import Interrupted, off_loop
from schema.validation import OffLoopValidation
from tests.schema.test_slices import longest_stall


class SlowRule(ValidationRule):
    """A validation rule as costly as graphql-core's worst (overlapping fields on doubling fragments)."""

    def enter_document(self, *_: Any) -> None:
        deadline = time.perf_counter() + 0.6
        while time.perf_counter() < deadline:
            pass


@strawberry.type
class Query:
    answer: int = 42


async def test_a_costly_validation_leaves_the_loop_free() -> None:
    schema = strawberry.Schema(Query, extensions=[partial(AddValidationRules, [SlowRule]), OffLoopValidation])
    result, _, elapsed, turns = await longest_stall(lambda: schema.execute("{ answer }", root_value=Query()))
    assert result.data == {"answer": 42}
    assert elapsed > 0.5  # the work was real
    # counted in loop turns, not seconds: on the loop itself the 0.6 s rule would be a single turn
    assert turns >= 4, turns
    # the second time it is remembered
    _, _, again, _ = await longest_stall(lambda: schema.execute("{ answer }", root_value=Query()))
    assert again < 0.3


async def test_a_cancelled_wait_interrupts_the_thread() -> None:
    progress = [0]
    stopped = threading.Event()

    def spin() -> None:
        try:
            while True:
                progress[0] += 1
        finally:
            stopped.set()

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await off_loop(spin)
    assert await asyncio.to_thread(stopped.wait, 5)
    seen = progress[0]
    await asyncio.sleep(0.05)
    assert progress[0] == seen


async def test_results_and_errors_come_back() -> None:
    assert await off_loop(lambda: 6 * 7) == 42

    def fail() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        await off_loop(fail)
    assert issubclass(Interrupted, BaseException) and not issubclass(Interrupted, Exception)
