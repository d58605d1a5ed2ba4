"""Repeated work: rounds keep coming after one fails, the failure is logged by type only, and the
task ends with the block."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.rounds import rounds

log = logging.getLogger("test.rounds")


async def test_a_failed_round_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    done: list[int] = []

    async def work() -> None:
        done.append(len(done))
        if len(done) == 2:
            raise RuntimeError("secret detail")

    caplog.set_level(logging.WARNING, logger="test.rounds")
    async with rounds(work, interval=0.01, first_delay=0, what="sweeping", log=log) as task:
        async with asyncio.timeout(5):
            while len(done) < 4:
                await asyncio.sleep(0.01)
        assert not task.done()
    assert task.cancelled()
    assert "sweeping failed (RuntimeError); next round in 0 s" in caplog.text
    assert "secret detail" not in caplog.text


async def test_the_first_round_waits_for_its_delay() -> None:
    done: list[float] = []

    async def work() -> None:
        done.append(asyncio.get_running_loop().time())

    async with rounds(work, interval=10, first_delay=0.2, what="sweeping", log=log):
        await asyncio.sleep(0.1)
        assert done == []
        async with asyncio.timeout(5):
            while not done:
                await asyncio.sleep(0.01)
