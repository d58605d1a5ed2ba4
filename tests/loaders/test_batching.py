"""DbLoader batches exactly as aiodataloader's DataLoader: the same keys in the same batches, whenever they come."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiodataloader import DataLoader

from loaders.batching import NOT_LOADED, DbLoader


class Recording:
    batches: list[list[int]]

    async def batch_load_fn(self, keys: list[int]) -> list[Any]:
        self.batches.append(list(keys))
        await asyncio.sleep(0)
        if 13 in keys:
            raise ValueError("unlucky batch")
        return [ValueError(f"no {k}") if k < 0 else k * 10 for k in keys]


class Plain(Recording, DataLoader[int, int]):
    def __init__(self) -> None:
        super().__init__()
        self.batches = []


class Ours(Recording, DbLoader[int, int]):
    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type] - batch_load_fn reads no database here
        self.batches = []


async def scenario(loader: DataLoader[int, int], turns: list[list[int]]) -> list[Any]:
    """Loads made loop turn after loop turn (a list per turn), awaited together at the end."""
    futures = []
    for keys in turns:
        futures += [loader.load(k) for k in keys]
        await asyncio.sleep(0)
    return await asyncio.gather(*futures, return_exceptions=True)


@pytest.mark.parametrize(
    "turns",
    [
        [[1, 2, 3]],
        [[1], [2], [3], [4], [5], [6]],  # late loads: which turn still joins the batch is the same
        [[1, 1, 2], [], [2, 3], [], [], [4]],
        [[1, -1], [13, 2], [], [], [3, 13]],  # failed items and failed batches (not cached)
    ],
)
async def test_same_batches_as_aiodataloader(turns: list[list[int]]) -> None:
    plain, ours = Plain(), Ours()
    expected = await scenario(plain, turns)
    answers = await scenario(ours, turns)
    assert [repr(a) for a in answers] == [repr(e) for e in expected]
    assert ours.batches == plain.batches
    assert len(plain.batches) > 1 or len(turns) == 1


# ("load" | "ready" | "clear", key) | ("many", keys) | ("prime", key, value) | ("clear_all",)
Step = tuple[Any, ...]


async def primed_scenario(loader: DataLoader[int, int], turns: list[list[Step]]) -> list[Any]:
    """`scenario` with primes, clears and `ready` between the loads; at the end, what each key holds."""
    futures: list[Any] = []
    for steps in turns:
        for op, *args in steps:
            if op == "load":
                futures.append(loader.load(args[0]))
            elif op == "many":
                futures.append(loader.load_many(args[0]))
            elif op == "ready":
                futures.append(asyncio.sleep(0, held(loader, args[0])))
            else:
                getattr(loader, op)(*args)
        await asyncio.sleep(0)
    answers = await asyncio.gather(*futures, return_exceptions=True)
    return [*answers, *(held(loader, k) for k in range(-1, 14))]


def held(loader: DataLoader[int, int], key: int) -> Any:
    """DbLoader.ready, and what it stands for in aiodataloader's cache: a done future's value."""
    if isinstance(loader, DbLoader):
        return loader.ready(key)
    found = loader._cache.get(key)
    if found is None or not found.done() or found.cancelled() or found.exception() is not None:
        return NOT_LOADED
    return found.result()


@pytest.mark.parametrize(
    "turns",
    [
        [[("prime", 1, 7), ("load", 1), ("load", 2)]],  # a primed key joins no batch
        [[("load", 1)], [], [], [("prime", 1, 7), ("load", 1), ("ready", 1)]],  # prime keeps what was loaded
        [[("load", 1), ("prime", 1, 7), ("ready", 1)]],  # and what is being loaded
        [[("prime", 1, 7), ("prime", 1, 8), ("ready", 1), ("load", 1)]],  # nor does it replace a primed value
        [[("prime", 1, 7), ("clear", 1), ("ready", 1), ("load", 1)]],  # a cleared key is loaded again
        [[("prime", 1, 7), ("prime", 2, 8), ("clear_all",), ("many", [1, 2, 3])]],
        [[("load", 1)], [], [], [("clear", 1), ("prime", 1, 9), ("load", 1)]],
        [[("prime", 4, ValueError("primed error")), ("load", 4), ("load", 5)]],  # a failed future
        [[("prime", 1, 7), ("many", [1, 2, 1])], [], [], [("load", 1), ("clear", 2), ("load", 2)]],
        [[("load", 13), ("prime", 13, 7)], [], [], [("load", 13)]],  # a failed batch forgets its keys
    ],
)
async def test_primed_keys_as_aiodataloader(turns: list[list[Step]]) -> None:
    """Ours keeps primed values plainly, not as futures: loads, batches and errors stay aiodataloader's."""
    plain, ours = Plain(), Ours()
    expected = await primed_scenario(plain, turns)
    answers = await primed_scenario(ours, turns)
    assert [repr(a) for a in answers] == [repr(e) for e in expected]
    assert ours.batches == plain.batches


async def test_ready_answers_what_is_held() -> None:
    ours = Ours()
    ours.prime(1, 7)
    ours.prime(2, None)  # type: ignore[arg-type] - a row not found is a value, as for a loaded key
    ours.prime(3, ValueError("primed error"))  # type: ignore[arg-type]
    loading = ours.load(4)
    assert (ours.ready(1), ours.ready(2), ours.ready(3), ours.ready(4)) == (7, None, NOT_LOADED, NOT_LOADED)
    assert await loading == 40 and ours.ready(4) == 40
    assert await ours.load(1) == 7 and ours.ready(1) == 7  # read through a future now, the same value
    ours.clear(1).clear(4)
    assert (ours.ready(1), ours.ready(4)) == (NOT_LOADED, NOT_LOADED)
    assert ours.batches == [[4]]


def test_a_loader_class_is_checked_once_when_defined() -> None:
    """aiodataloader checks its batch function on every construction; ours when the class is made."""
    with pytest.raises(AssertionError, match="must be async"):

        class Sync(DbLoader[int, int]):
            def batch_load_fn(self, keys: list[int]) -> list[int]:  # type: ignore[override]
                return keys

    with pytest.raises(TypeError, match="caches and batches"):

        class Uncached(DbLoader[int, int]):
            cache = False
