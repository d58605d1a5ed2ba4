"""DbLoader batches exactly as aiodataloader's DataLoader: the same keys in the same batches, whenever they come."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiodataloader import DataLoader

from loaders.batching import DbLoader


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
