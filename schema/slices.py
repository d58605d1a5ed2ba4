"""Result building in slices: graphql-core hands the event loop back every few milliseconds of synchronous work."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from time import monotonic, thread_time
from typing import Any

from graphql import GraphQLNonNull, GraphQLString
from graphql.execution import executor as executor_module
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.acyclic import helpers_of

# Long enough that a slice boundary costs nothing measurable, short enough that the loop
# serves a waiting request (a /healthz, a small query) within a few slices.
SLICE_SECONDS = 0.02


class _Slice:
    """How long execution has held the loop since it last let go."""

    def __init__(self) -> None:
        self.end = 0.0
        self.cpu_start = 0.0
        self.stale = True  # the loop has turned since the slice began: the next check starts a new one

    def spent(self) -> bool:
        """Has execution held the loop for a whole slice of CPU time, without a break?

        The wall clock is cheap enough to read at every list item; the thread's CPU clock is read
        only when the wall clock says the slice is over, so that time this process spent
        descheduled on a busy machine is not counted: it would split DataLoader batches for nothing.
        """
        now = monotonic()
        if self.stale:
            self.stale = False
            self.end = now + SLICE_SECONDS
            self.cpu_start = thread_time()
            asyncio.get_running_loop().call_soon(self._loop_turned)
        if now < self.end:
            return False
        unused = SLICE_SECONDS - (thread_time() - self.cpu_start)
        if unused > 0:
            self.end = now + unused
            return False
        return True

    def _loop_turned(self) -> None:
        self.stale = True

    async def next(self) -> None:
        """Let the loop turn, then wait for a fresh slice (another list may have taken this one)."""
        await asyncio.sleep(0)
        while self.spent():  # noqa: ASYNC110 - polling is the point: each sleep(0) is one loop turn
            await asyncio.sleep(0)


class SlicedExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core completes a list of synchronous items in one go: a large answer made of plain
    attributes (introspection, big lists) would hold the loop until complete, and no deadline
    could fire meanwhile.

    Lists are where the volume is, so lists are cut: items are completed inline while the slice
    lasts; when it is spent, the rest of the list becomes one coroutine that continues, slice by
    slice, after the loop has turned. Lists with @stream keep graphql-core's own path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slice = _Slice()
        # not the executor's own bound methods, which make a cycle (schema/acyclic.py)
        self.async_helpers = helpers_of(self)

    def complete_iterable_value(
        self,
        item_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Any,
        position_context: Any,
    ) -> Any:
        if self.get_stream_usage(field_details_list, path):
            return super().complete_iterable_value(
                item_type, field_details_list, info, path, items, position_context
            )
        plain = plain_strings(item_type, items)
        if plain is not None:
            return plain
        return _ListWork(
            self, list(items), (item_type, field_details_list, info, path, position_context)
        ).start()


def plain_strings(item_type: Any, items: Any) -> list[str] | None:
    """A list of String items that are all str completes to a copy of itself (String serialises a str
    as itself): a fleet's million refs need no per-item completion."""
    named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
    if named is not GraphQLString or type(items) is not list:
        return None
    return list(items) if all(type(item) is str for item in items) else None


class SlicedList:
    """A list completed a slice of the loop at a time, by either executor: `step` completes items until
    the slice is spent; starting, the rest a slice at a time, gathering and settling are shared."""

    __slots__ = ()
    ex: Any
    items: list[Any]
    completed: list[Any]
    awaitable: list[int]
    index: int

    def step(self) -> None:
        raise NotImplementedError

    def start(self) -> Any:
        try:
            self.step()
        except Exception:
            self.settle()
            raise
        if self.index < len(self.items):
            return self.rest_later()
        return self.gathered() if self.awaitable else self.completed

    async def rest_later(self) -> list[Any]:
        try:
            while self.index < len(self.items):
                await self.ex.slice.next()
                self.step()
        except asyncio.CancelledError:  # the deadline: nothing more runs for this request
            for pending in (self.completed[i] for i in self.awaitable):
                if inspect.iscoroutine(pending):
                    pending.close()
            raise
        except Exception:
            self.settle()
            raise
        return await self.gathered() if self.awaitable else self.completed

    async def gathered(self) -> list[Any]:
        if len(self.awaitable) == 1:
            index = self.awaitable[0]
            self.completed[index] = await self.completed[index]
            return self.completed
        values = await executor_module.gather_with_cancel(*(self.completed[i] for i in self.awaitable))  # type: ignore[attr-defined]
        for index, value in zip(self.awaitable, values, strict=True):
            self.completed[index] = value
        return self.completed

    def settle(self) -> None:
        """Items already started are settled in the background, as graphql-core does on an error."""
        pending = [self.completed[i] for i in self.awaitable]
        pending += [item for item in self.items[self.index :] if self.ex.is_awaitable(item)]
        if pending:
            self.ex.settle_in_background(pending)


class _ListWork(SlicedList):
    """One list's completion, resumable between slices; the per-item steps are graphql-core's own."""

    def __init__(self, executor: SlicedExecutor, items: list[Any], where: tuple[Any, ...]) -> None:
        self.ex = executor
        self.items = items
        self.item_type, self.field_details_list, self.info, self.path, self.position_context = where
        self.index = 0
        self.completed: list[Any] = []
        self.awaitable: list[int] = []

    def step(self) -> None:
        executor, spent = self.ex, self.ex.slice.spent
        while self.index < len(self.items) and not spent():
            item, index = self.items[self.index], self.index
            item_path = self.path.add_key(index, None)
            if executor.is_awaitable(item):
                self.completed.append(
                    executor.complete_awaitable_list_item_value(
                        item,
                        self.item_type,
                        self.field_details_list,
                        self.info,
                        item_path,
                        self.position_context,
                    )
                )
                self.awaitable.append(index)
            elif executor.complete_list_item_value(
                item,
                self.completed,
                self.item_type,
                self.field_details_list,
                self.info,
                item_path,
                self.position_context,
            ):
                self.awaitable.append(index)
            self.index += 1


# graphql-core gathers a list's awaitable items by wrapping every one in a task at once; each task's
# first step then runs in the same loop turn, so a list of 100,000 async items held the loop for
# seconds in one go. This gather creates them a chunk at a time, with a loop turn between chunks.
GATHER_CHUNK = 2000


async def gather_in_chunks(*awaitables: Awaitable[Any]) -> list[Any]:
    """graphql-core's gather_with_cancel (first error cancels the rest), in chunks."""
    futures: list[asyncio.Future[Any]] = []
    try:
        chunks = range(0, len(awaitables), GATHER_CHUNK)
        for start in chunks:
            if start:
                await asyncio.sleep(0)
                _raise_first_error(futures[-GATHER_CHUNK:])  # no point starting more
            futures += [asyncio.ensure_future(aw) for aw in awaitables[start : start + GATHER_CHUNK]]
        results: list[Any] = []
        for start in chunks:  # collected a chunk at a time too: asyncio.gather itself loops over all
            results += await asyncio.gather(*futures[start : start + GATHER_CHUNK])
        return results
    except BaseException:
        for pending in awaitables[len(futures) :]:
            if inspect.iscoroutine(pending):
                pending.close()  # never started: no "never awaited" warning
        for future in futures:
            future.cancel()
        await asyncio.gather(*futures, return_exceptions=True)
        raise


def _raise_first_error(futures: list[asyncio.Future[Any]]) -> None:
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            raise future.exception()  # type: ignore[misc]


def install_chunked_gather() -> None:
    """graphql-core looks the function up in its executor module at every call."""
    executor_module.gather_with_cancel = gather_in_chunks  # type: ignore[attr-defined]
