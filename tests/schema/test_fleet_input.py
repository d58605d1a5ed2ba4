"""fleetStatus(devices:) in columns: exactly graphql-core's coercion for plain devices, graphql-core's own errors otherwise."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from graphql import coerce_input_value

from resolvers.fleet import FleetDevices, group_devices
from schema.fleet_input import columns, fleet_devices
from schema.schema import build_schema
from tests.builders import SUPPLIER, execute

SCHEMA = build_schema()
FLEET = "query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) { total distinct invalid problems { index ref field } groups { count refs } } }"


def device(fw: str = "00000001", **extra: Any) -> dict[str, Any]:
    return {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": fw,
        **extra,
    }


def coerced(items: list[Any]) -> FleetDevices:
    """What graphql-core's own coercion of the contract type gives, in columns."""
    return fleet_devices(
        coerce_input_value(items, SCHEMA._schema.query_type.fields["fleetStatus"].args["devices"].type)
    )


def test_plain_devices_give_what_graphql_core_gives() -> None:
    items = [device(ref="a"), device("00000002"), device(ref=None), device(" 1 ", ref="b"), device(ref="a")]
    fast = columns(items)
    assert fast == coerced(items)
    assert fast is not None and fast.refs == ["a", None, None, "b", "a"]
    assert fast.identities[0] is fast.identities[2]  # equal identities share one tuple


@pytest.mark.parametrize(
    "odd",
    [
        "not an object",
        None,
        {"manufacturerId": "106C", "modelId": "4331", "hardwareVersion": "00AC"},  # a field missing
        device(serial="x"),  # a field the type does not have
        device(modelId=None),
        device(modelId=4331),
        device(modelId=["4331"]),  # unhashable
        device(modelId={"a": 1}),
        device(ref=7),
        device(ref=["x"]),
    ],
)
def test_anything_unusual_is_left_to_graphql_core(odd: Any) -> None:
    assert columns([device(), odd, device()]) is None


def test_not_a_list_is_left_to_graphql_core() -> None:
    assert columns(device()) is None
    assert columns([]) == FleetDevices([], [])


async def test_unusual_devices_get_graphql_cores_errors(seeded: asyncpg.Pool) -> None:
    result = await execute(SCHEMA, seeded, FLEET, SUPPLIER, d=[device(), device(modelId=4331)])
    assert result.data is None
    [error] = result.errors
    assert (error.message, error.extensions["code"]) == (
        "String cannot represent a non string value: 4331",
        "BAD_USER_INPUT",
    )


async def test_a_single_object_is_coerced_to_a_list_as_graphql_core_does(seeded: asyncpg.Pool) -> None:
    result = await execute(SCHEMA, seeded, FLEET, SUPPLIER, d=device(ref="only"))
    assert result.errors is None, result.errors
    assert result.data["fleetStatus"]["groups"] == [{"count": 1, "refs": ["only"]}]


async def test_a_literal_list_is_coerced_by_graphql_core(seeded: asyncpg.Pool) -> None:
    query = """{ fleetStatus(devices: [{ref: "x", manufacturerId: "106c", modelId: "4331",
      hardwareVersion: "00ac", firmwareVersion: "00000001"}]) { total groups { refs } } }"""
    result = await execute(SCHEMA, seeded, query, SUPPLIER)
    assert result.errors is None, result.errors
    assert result.data["fleetStatus"] == {"total": 1, "groups": [{"refs": ["x"]}]}


async def test_a_callers_own_variables_are_left_intact(seeded: asyncpg.Pool) -> None:
    devices = [device(ref="a"), device(ref="b")]
    result = await execute(SCHEMA, seeded, FLEET, SUPPLIER, d=devices)
    assert result.data["fleetStatus"]["total"] == 2
    assert devices == [device(ref="a"), device(ref="b")]


def test_each_device_of_a_repeated_bad_identity_is_its_own_problem() -> None:
    bad = ("106C", "4331", "00AC", "1.2.3")
    good = ("106C", "4331", "00AC", "00000001")
    groups, problems = group_devices(FleetDevices(["x", "y", None, "z"], [bad, good, bad, good]))
    assert [(p.index, p.ref, p.field) for p in problems] == [
        (0, "x", "firmwareVersion"),
        (2, None, "firmwareVersion"),
    ]
    assert [(g.count, g.refs) for g in groups] == [(2, ["y", "z"])]
