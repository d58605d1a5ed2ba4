"""loaders/registry.py: the per-request loaders, their memo, and the values primed before a loader is made."""

from __future__ import annotations

import asyncpg
import pytest

from loaders.batching import NOT_LOADED, DbLoader
from loaders.db import Db
from loaders.registry import Loaders
from loaders.rows import ModelRow
from resolvers.context import Context
from resolvers.principal import ANONYMOUS
from tests.builders import Builder

MINE, OTHER = ("1001", "0001"), ("1001", "0002")
STALE = ModelRow("1001", "0001", "as primed", "ESME")  # not what the database holds


@pytest.fixture
async def models(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("1001")
        await b.model(*MINE)
        await b.model(*OTHER)


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


async def test_a_primed_key_costs_no_statement_and_a_cleared_one_is_read_again(db: Db, models: None) -> None:
    loaders = Loaders(db)
    loaders.primer(Loaders.model_by_key)(MINE, STALE)
    assert not any(isinstance(v, DbLoader) for v in vars(loaders).values())  # priming made no loader
    assert await loaders.model_by_key.load(MINE) is STALE
    assert db.log.count == 0
    mine, other = await loaders.model_by_key.load_many([MINE, OTHER])
    assert mine is STALE and other is not None and other.name == "Model 0002"
    assert db.log.count == 1  # the unprimed key alone
    loaders.model_by_key.clear(MINE)
    fresh = await loaders.model_by_key.load(MINE)
    assert fresh is not None and fresh.name == "Model 0001"
    assert db.log.count == 2


async def test_priming_keeps_what_the_request_holds(db: Db, models: None) -> None:
    """As aiodataloader's prime: a key already primed or loaded keeps its value, made loader or not."""
    loaders = Loaders(db)
    prime = loaders.primer(Loaders.model_by_key)
    prime(MINE, STALE)
    prime(MINE, None)
    assert loaders.model_by_key.ready(MINE) is STALE  # the loader, made now, starts from what was primed
    loaded = await loaders.model_by_key.load(OTHER)
    loaders.primer(Loaders.model_by_key)(OTHER, STALE)
    loaders.primer(Loaders.model_by_key)(MINE, None)
    assert loaders.model_by_key.ready(OTHER) is loaded and loaded is not None
    assert await loaders.model_by_key.load(MINE) is STALE
    assert db.log.count == 1


async def test_clear_all_after_a_write_forgets_primed_values(
    db: Db, pool: asyncpg.Pool, models: None
) -> None:
    """A mutation clears the request's loaders after it writes: what was primed, made loader or not,
    must not answer for the rows it changed."""
    loaders = Loaders(db)
    loaders.primer(Loaders.model_by_key)(MINE, STALE)  # a loader not made yet
    loaders.primer(Loaders.manufacturer_by_id)("1001", None)
    loaders.cpl_entry_by_number.prime(1, None)  # a loader made
    await pool.execute("update device_models set name = 'renamed' where manufacturer_id = '1001'")
    loaders.clear_all()
    assert loaders.cpl_entry_by_number.ready(1) is NOT_LOADED
    assert loaders.manufacturer_by_id.ready("1001") is NOT_LOADED
    mine, other = await loaders.model_by_key.load_many([MINE, OTHER])
    assert mine is not None and other is not None and mine.name == other.name == "renamed"
    assert db.log.count == 1
