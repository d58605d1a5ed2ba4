"""A large request body parses to what orjson gives, and is refused where orjson refuses it."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from starlette.requests import Request

from gateway.request_body import LEAN_PARSE_BYTES, loads, read_request_body


def large(value: str) -> bytes:
    """`value` as the first variable of a body past the size where the lean parser takes over."""
    padding = "x" * LEAN_PARSE_BYTES
    return f'{{"variables": {{"v": {value}}}, "query": "{padding}"}}'.encode()


@pytest.mark.parametrize(
    "value",
    [
        '[{"ref": "a", "n": null, "t": true}]',
        "123456789012345678901234567890",
        "-0",
        "1.5e3",
        '"\\u00e9t\\u00e9"',
    ],
)
def test_a_large_body_parses_as_orjson_parses_it(value: str) -> None:
    body = large(value)
    expected: Any = orjson.loads(body)
    assert loads(body) == expected
    assert loads(bytearray(body)) == expected
    assert loads(body.decode()) == expected


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", '"\\ud800"', "[1,]", "[" * 5000])
def test_a_large_body_is_refused_where_orjson_refuses_it(value: str) -> None:
    body = large(value)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    with pytest.raises(ValueError):
        loads(body)


def test_a_large_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ValueError):
        loads(large('"\xff"'.encode("latin-1").decode("latin-1")).replace(b"\xc3\xbf", b"\xff"))


def small(value: str) -> bytes:
    return f'{{"variables": {{"v": {value}}}, "query": "x"}}'.encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def depth(value: Any) -> int:
    """How deep `[[...[]...]]` goes, without recursion (== and orjson.dumps would recurse too deep)."""
    levels = 0
    while isinstance(value, list):
        levels += 1
        value = value[0] if value else None
    return levels


def test_nesting_is_bounded_alike_at_either_size() -> None:
    """orjson's limit (1024 levels, the body's own two included) holds for a large body too,
    though json alone hits the interpreter's recursion limit sooner."""
    deepest = 1024 - 2
    for make in (small, large):
        body = make(nested(deepest))
        assert depth(loads(body)["variables"]["v"]) == depth(orjson.loads(body)["variables"]["v"]) == deepest
        too_deep = make(nested(deepest + 1))
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(too_deep)
        with pytest.raises(ValueError):
            loads(too_deep)
    assert len(large(nested(deepest))) >= LEAN_PARSE_BYTES > len(small(nested(deepest)))


async def test_a_large_body_is_parsed_while_the_loop_keeps_turning() -> None:
    """12 MB of devices parse in about 0.1 s of C, which would hold the loop all that time."""
    devices = [
        {"ref": f"MPAN-{n}", "manufacturerId": "106C", "firmwareVersion": "00000001"} for n in range(300_000)
    ]
    body = orjson.dumps({"query": "{ __typename }", "variables": {"d": devices}})
    assert len(body) > LEAN_PARSE_BYTES
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    turns = 0
    reading = asyncio.create_task(read_request_body(request))
    while not reading.done():
        turns += 1
        await asyncio.sleep(0)
    await reading
    assert sent and turns > 10
    assert loads(request._body) == orjson.loads(body)  # and no second parse: the value is kept
    assert loads(request._body) is loads(request._body)


async def test_a_large_body_that_is_not_json_is_refused_when_read() -> None:
    body = b'{"variables": [' + b"1," * LEAN_PARSE_BYTES + b"]}"

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    await read_request_body(request)
    with pytest.raises(ValueError):
        loads(request._body)
