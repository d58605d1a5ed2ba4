"""schema.remembered: facts kept per live object, by identity, and forgotten with it."""

from __future__ import annotations

import gc

from graphql import parse

from schema.remembered import Remembered


def test_facts_are_kept_per_object_and_extra_and_go_with_the_object() -> None:
    memo: Remembered[int] = Remembered()
    calls: list[str] = []

    def computed(name: str) -> int:
        calls.append(name)
        return len(calls)

    first, twin = parse("{ a }"), parse("{ a }")  # equal documents, different objects
    assert memo.get(first, None, lambda: computed("first")) == 1
    assert memo.get(first, None, lambda: computed("again")) == 1  # remembered
    assert memo.get(first, "Op", lambda: computed("op")) == 2  # another extra: its own fact
    assert memo.get(twin, None, lambda: computed("twin")) == 3  # identity, not equality
    assert len(memo) == 2
    del first
    gc.collect()
    assert len(memo) == 1  # the collected document's facts went with it
    del twin
    gc.collect()
    assert len(memo) == 0
