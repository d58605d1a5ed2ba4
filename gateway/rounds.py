"""Work repeated while the gateway runs: one task, a first delay, then a round every interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable


@contextlib.asynccontextmanager
async def rounds(
    work: Callable[[], Awaitable[None]],
    *,
    interval: float,
    first_delay: float,
    what: str,
    log: logging.Logger,
) -> AsyncIterator[asyncio.Task[None]]:
    """`work` every `interval` seconds (the first after `first_delay`) until the block ends. A round
    that fails (an outage, say) is logged as `what` failed, by the error's type only, and the next
    round tries again."""
    task = asyncio.create_task(_repeat(work, interval, first_delay, what, log))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _repeat(
    work: Callable[[], Awaitable[None]], interval: float, delay: float, what: str, log: logging.Logger
) -> None:
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            await work()
        except Exception as error:  # the next round tries again
            log.warning("%s failed (%s); next round in %.0f s", what, type(error).__name__, interval)
