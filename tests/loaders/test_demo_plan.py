"""The demo plan: decided by the seed and the scale alone, without a database."""

from __future__ import annotations

import pytest

from loaders.demo_plan import build_plan


def test_plan_depends_on_nothing_but_the_scale() -> None:
    first, second = build_plan(2), build_plan(2)
    assert first == second
    assert len(first.manufacturers) == 40
    with pytest.raises(ValueError, match="scale"):
        build_plan(0)
