"""Pure-Python CPU work on a thread: the loop keeps serving, and a cancelled wait (a deadline) stops the work too."""

from __future__ import annotations

import asyncio
import ctypes
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# At most this many threads compete with the loop for the GIL; further work waits, cancellable.
MAX_THREADS = 2
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


class Interrupted(BaseException):
    """Raised inside the worker thread when its caller stopped waiting (BaseException: no
    `except Exception` in the interrupted code may swallow it)."""


class _Job:
    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
        self.lock = threading.Lock()
        self.thread_id: int | None = None
        self.finished = False

    def run(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        outcome: Any = None
        failed = True
        try:
            try:
                outcome, failed = self.work(), False
            except BaseException as error:  # handed to the awaiting coroutine, Interrupted included
                outcome = error
            finally:
                with self.lock:
                    self.finished = True
        except Interrupted:  # landed after the work returned, before `finished` was set
            outcome, failed = Interrupted(), True
        loop.call_soon_threadsafe(_settle, future, failed, outcome)

    def interrupt(self) -> None:
        """Raise Interrupted in the thread at its next bytecode, unless the work already ended."""
        with self.lock:
            if not self.finished and self.thread_id is not None:
                exc = ctypes.py_object(Interrupted)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id), exc)


def _settle(future: asyncio.Future[Any], failed: bool, outcome: Any) -> None:
    if future.done():
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


async def off_loop(work: Callable[[], T]) -> T:
    """`work()` on its own thread. The thread still shares the GIL, but Python switches threads
    every few milliseconds, so the loop answers other requests meanwhile."""
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(loop, asyncio.Semaphore(MAX_THREADS))
    async with slots:
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(work)
        thread = threading.Thread(target=job.run, args=(loop, future), name="fir-offload", daemon=True)
        thread.start()
        job.thread_id = thread.ident
        try:
            return await future
        except asyncio.CancelledError:
            job.interrupt()
            raise
