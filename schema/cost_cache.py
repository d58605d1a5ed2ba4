"""Each document's cost analysis remembered by its text and the shape of its variables: clients repeat a few."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from functools import partial
from typing import Any

from graphql import DocumentNode

from schema.cost import Analysis, analyse
from schema.cost_model import CostModel
from schema.offload import off_loop
from schema.parsing import is_long

MAXSIZE = 1024
# Variables larger than this (a fleet's device list) are analysed afresh: describing them costs as much as
# the analysis itself, whose list costs are O(1) for flat items anyway.
MAX_SHAPE_NODES = 256


class TooLarge(Exception):
    """The variables hold more than MAX_SHAPE_NODES values."""


class Analyses:
    """A bounded LRU of analyses per (document text, variables shape), for one schema's cost model.

    The shape keeps every fact `schema.cost` reads from variables (which keys are present, null or not,
    list lengths, integers for slicing arguments) and drops the rest (strings, floats), so two requests
    that differ only in their identity strings share one entry.
    """

    def __init__(self, model: CostModel, maxsize: int = MAXSIZE) -> None:
        self.model = model
        self.maxsize = maxsize
        self.entries: OrderedDict[tuple[str, Hashable], Analysis] = OrderedDict()

    async def of(
        self, query: str | None, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> Analysis:
        """A long document's analysis (tens of milliseconds for an 18 KB one) runs on a thread, as its parse did."""
        run = partial(analyse, self.model, document, variables)
        key = cache_key(query, variables)
        if key is None:
            return await off_loop(run) if is_long(query) else run()
        found = self.remembered(key)
        if found is not None:
            return found
        analysis = await off_loop(run) if is_long(query) else run()
        self.entries[key] = analysis
        if len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)
        return analysis

    def cached(self, query: str | None, variables: Mapping[str, Any] | None) -> Analysis | None:
        """The analysis `of` would answer without analysing, if it is remembered."""
        return self.remembered(cache_key(query, variables))

    def remembered(self, key: tuple[str, Hashable] | None) -> Analysis | None:
        if key is None:
            return None
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found


def cache_key(query: str | None, variables: Mapping[str, Any] | None) -> tuple[str, Hashable] | None:
    """None when the request cannot share an entry: no query text (a parsed document) or large variables."""
    if not query:
        return None
    try:
        return query, shape(variables if isinstance(variables, Mapping) else {}, [MAX_SHAPE_NODES])
    except TooLarge:
        return None


def shape(value: Any, budget: list[int]) -> Hashable:
    """What the cost analysis can tell apart in a JSON value; `budget` counts down the values seen.

    Variables parsed from JSON hold exactly str, dict, list, int, float, bool and None: those are
    told apart by their type first, and only anything else goes through the abstract base classes
    (a Mapping check is a Python-level call, and this runs for every value of every request).
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise TooLarge
    kind = type(value)
    if kind is str:
        return "scalar"
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        return ("{", tuple(sorted((str(k), shape(v, budget)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("[", tuple(shape(v, budget) for v in value))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return ("int", value)  # a slicing argument's size
    if isinstance(value, float) and value.is_integer():
        return ("int", int(value))  # an Int too, to graphql-core
    return "scalar"
