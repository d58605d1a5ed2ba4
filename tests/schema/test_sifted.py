"""A long fleet's passes run on a thread (schema.sifted), and answer exactly what they answer on the loop."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

import resolvers.fleet
import schema.fleet_input
import schema.input_limits
import schema.sifted
from resolvers.context import InputCaps, InputCapsByPrincipal
from schema.schema import build_schema
from tests.builders import SUPPLIER, context_for

SCHEMA = build_schema()
FLEET = (
    "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total distinct invalid"
    " problems { index ref field } groups { count refs status { onCpl } } } }"
)
DEVICES = schema.sifted.LONG_LIST + 5


def fleet(n: int = DEVICES) -> list[dict[str, Any]]:
    """`n` devices of 50 identities, each with its own reference, and one malformed device."""
    items = [
        {
            "ref": f"MPAN-{k}",
            "manufacturerId": "106C",
            "modelId": "4331",
            "hardwareVersion": "00AC",
            "firmwareVersion": f"{k % 50:08X}",
        }
        for k in range(n)
    ]
    items[7]["firmwareVersion"] = "1.2.3"
    return items


def threads_of(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[str]:
    """The threads `module.name` is called on from now on (it still does its work)."""
    seen: list[str] = []
    original: Callable[..., Any] = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


async def run(pool: asyncpg.Pool, items: list[dict[str, Any]], caps: InputCaps | None = None) -> Any:
    ctx = context_for(pool, SUPPLIER)
    if caps is not None:
        ctx.limits = dataclasses.replace(ctx.limits, caps=InputCapsByPrincipal(authenticated=caps))
    return await SCHEMA.execute(FLEET, variable_values={"d": items}, context_value=ctx)


async def test_a_long_fleet_is_screened_grouped_and_put_in_columns_off_the_loop(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    screened = threads_of(monkeypatch, SCHEMA.screen, "within")
    in_columns = threads_of(monkeypatch, schema.sifted, "columns")
    on_the_loop = threads_of(monkeypatch, schema.fleet_input, "columns")
    grouped = threads_of(monkeypatch, resolvers.fleet, "group_devices")
    result = await run(pool, fleet())
    assert result.errors is None, result.errors
    assert result.data["fleetStatus"]["total"] == DEVICES
    main = threading.main_thread().name
    assert screened and main not in screened
    assert in_columns and main not in in_columns
    assert on_the_loop == []  # the executor took the columns made on the thread, not its own
    assert grouped and main not in grouped


async def test_a_long_fleet_the_screen_cannot_pass_is_walked_off_the_loop(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One escaped quote in a long body and the screen reports something: the exact walk then ran
    on the loop (0.6 s at 100,000 devices), and the columns after it."""
    items = fleet()
    items[3]["ref"] = 'MPAN "3"'
    walked = threads_of(monkeypatch, schema.input_limits, "_problems")
    on_the_loop = threads_of(monkeypatch, schema.fleet_input, "columns")
    result = await run(pool, items)
    assert result.errors is None, result.errors
    assert walked and threading.main_thread().name not in walked
    assert on_the_loop == []
    assert 'MPAN "3"' in [ref for group in result.data["fleetStatus"]["groups"] for ref in group["refs"]]


async def test_a_long_fleet_answers_what_it_answers_on_the_loop(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    sifted = await run(pool, fleet())
    monkeypatch.setattr(schema.sifted, "LONG_LIST", DEVICES + 1)
    monkeypatch.setattr("schema.query.LONG_LIST", DEVICES + 1)
    on_the_loop = await run(pool, fleet())
    assert sifted.errors is None and on_the_loop.errors is None
    assert sifted.data == on_the_loop.data
    answer = sifted.data["fleetStatus"]
    assert (answer["distinct"], answer["invalid"]) == (50, 1)
    assert answer["problems"] == [{"index": 7, "ref": "MPAN-7", "field": "firmwareVersion"}]


async def test_a_long_list_over_the_callers_cap_is_refused_as_on_the_loop(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    caps = InputCaps(body_bytes=1 << 30, list_items=DEVICES - 1, entities=10)
    made = threads_of(monkeypatch, schema.sifted, "columns")
    sifted = await run(pool, fleet(), caps)
    assert made == []  # refused by the exact walk, which reads the raw list: nothing put in columns
    monkeypatch.setattr(schema.sifted, "LONG_LIST", DEVICES + 1)
    on_the_loop = await run(pool, fleet(), caps)
    [error] = sifted.errors
    assert error.message == on_the_loop.errors[0].message
    assert error.message.endswith(f"the limit for this caller is {DEVICES - 1}")
    assert error.extensions["code"] == "BAD_USER_INPUT"


async def test_what_was_sifted_is_asked_for_those_variables_only(pool: asyncpg.Pool) -> None:
    caps = InputCaps(body_bytes=1, list_items=1, entities=1)
    variables = {"d": fleet()}
    found = schema.sifted.sift(lambda v, c: None, variables, caps)
    assert found.columns["d"] is not None and len(found.columns["d"]) == DEVICES
    with schema.sifted.remembered(found):
        assert schema.sifted.current(variables) is found
        assert schema.sifted.current(dict(variables)) is None  # equal, but not these variables
    assert schema.sifted.current(variables) is None
