"""loaders/registry.py: the per-request loaders and their memo."""

from __future__ import annotations

from loaders.batching import NOT_LOADED
from loaders.db import Db
from loaders.registry import Loaders
from resolvers.context import Context
from resolvers.principal import ANONYMOUS


async def test_clear_all_forgets_the_memo_with_the_loaders(db: Db) -> None:
    """A long-lived context (a subscription) clears its loaders on every event: what was computed from
    their rows goes too, else the memo would grow for the life of the stream and answer stale."""
    loaders = Loaders(db)
    context = Context(principal=ANONYMOUS, loaders=loaders)
    context.memo["a model's visible releases"] = [1, 2]
    loaders.model_by_key.prime(("1001", "0001"), None)
    loaders.clear_all()
    assert context.memo == {}
    assert loaders.model_by_key.ready(("1001", "0001")) is NOT_LOADED
