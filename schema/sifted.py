"""A request's long variable lists screened and put in columns on a thread, before the loop runs it.

The input caps' check (schema.input_limits: its screen, and the exact walk when the screen reports
something, as one escaped quote in a long body makes it) and the fleet's columns (schema.fleet_input)
are passes over every item of a list: for a million devices a second or more each, which held the
loop all that time. A request holding a list of LONG_LIST items or more has both done on a thread first
(schema.offload: the interpreter switches threads between the passes' Python steps, and no C pass
runs for more than about 0.1 s at a million items); what they found is kept for the rest of the
request, which asks `current` instead of passing over the list again on the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from resolvers.context import InputCaps
from resolvers.errors import BadUserInput
from resolvers.fleet import FleetDevices
from schema.fleet_input import columns

# Items from which a list is sifted on a thread: below it, the passes take under 10 ms on the loop.
LONG_LIST = 10_000


@dataclass(frozen=True, slots=True)
class Sifted:
    """What the passes found for one request's variables under one caller's caps."""

    variables: dict[str, Any]
    caps: InputCaps
    problem: BadUserInput | None  # the first value over a cap (schema.input_limits.first_problem)
    # each long list by variable name: in columns, or None when not every item is a plain device
    columns: dict[str, FleetDevices | None]


_current: ContextVar[Sifted | None] = ContextVar("fir_sifted", default=None)


def has_long_list(variables: dict[str, Any] | None) -> bool:
    if not variables:
        return False
    return any(type(value) is list and len(value) >= LONG_LIST for value in variables.values())


def sift(
    problem_of: Callable[[dict[str, Any], InputCaps], BadUserInput | None],
    variables: dict[str, Any],
    caps: InputCaps,
) -> Sifted:
    """`problem_of`: the input caps' check (schema.input_limits.first_problem, with its screen). A
    request with a problem is refused: nothing is put in columns."""
    problem = problem_of(variables, caps)
    found: dict[str, FleetDevices | None] = {}
    if problem is None:
        for name, value in variables.items():
            if type(value) is list and len(value) >= LONG_LIST:
                found[name] = columns(value)
    return Sifted(variables, caps, problem, found)


@contextmanager
def remembered(sifted: Sifted) -> Iterator[None]:
    """`sifted` is what `current` answers for its variables while the block runs (tasks it starts
    inherit it)."""
    token = _current.set(sifted)
    try:
        yield
    finally:
        _current.reset(token)


def current(variables: dict[str, Any] | None) -> Sifted | None:
    """What was sifted for these very variables (the same object) in this request, if anything."""
    found = _current.get()
    return found if found is not None and found.variables is variables else None
