"""submitFirmwareRelease validation: each bad field named, nothing written; upgrade sources that exist,
close no cycle and run forwards in CPL listing order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from tests.builders import Builder
from tests.schema.test_mutations_publishing import (  # noqa: F401  (catalogue is a fixture)
    MAKER_A,
    catalogue,
    counts,
    error_of,
    submission,
    submit,
)

pytestmark = pytest.mark.usefixtures("catalogue")

FAR_FUTURE = (dt.date.today() + dt.timedelta(days=400)).isoformat()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"manufacturerId": "106"}, "input.manufacturerId"),
        ({"modelId": "43311"}, "input.modelId"),
        ({"hardwareVersion": "0AC"}, "input.hardwareVersion"),
        ({"firmwareVersion": "0000000G"}, "input.firmwareVersion"),
        ({"imageHash": "ABCD"}, "input.imageHash"),
        ({"releaseDate": "2009-12-31"}, "input.releaseDate"),
        ({"releaseDate": FAR_FUTURE}, "input.releaseDate"),
        ({"releaseNotes": "x" * 20_001}, "input.releaseNotes"),
        ({"advisories": ["CVE-2024-12345", "not an id"]}, "input.advisories[1]"),
        ({"advisories": ["CVE-24-1"]}, "input.advisories[0]"),
        ({"advisories": ["CVE-\u0662\u0660\u0662\u0664-\u0661\u0662\u0663\u0664"]}, "input.advisories[0]"),
        ({"advisories": [f"SA-{i}" for i in range(51)]}, "input.advisories"),
        ({"upgradableFrom": ["00000001", "zz"]}, "input.upgradableFrom[1]"),
        ({"upgradableFrom": ["00000002"]}, "input.upgradableFrom[0]"),  # its own version
        ({"upgradableFrom": ["00000001", "00000001"]}, "input.upgradableFrom[1]"),
        ({"upgradableFrom": ["00000001", "0000FFFF"]}, "input.upgradableFrom[1]"),  # unknown for this model
        ({"idempotencyKey": "k" * 201}, "input.idempotencyKey"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    pool: asyncpg.Pool, override: dict[str, Any], field: str
) -> None:
    before = await counts(pool)
    result = await submit(pool, MAKER_A, submission("00000002", **override))
    assert error_of(result) == {"code": "BAD_USER_INPUT", "field": field}
    assert await counts(pool) == before


async def test_unknown_model_is_bad_user_input(pool: asyncpg.Pool) -> None:
    result = await submit(pool, MAKER_A, submission("00000002", modelId="9999"))
    assert error_of(result) == {"code": "BAD_USER_INPUT", "field": "input.modelId"}


async def test_bad_urgency_is_bad_user_input(pool: asyncpg.Pool) -> None:
    result = await submit(pool, MAKER_A, submission("00000002", urgency="SOMEDAY"))
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


async def test_upgrade_cycles_are_refused_even_through_existing_edges(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        b.next_number = 1100  # the fixture's builder used the numbers below
        # existing edges 00000004 -> 00000005 -> 00000006; 00000004 has a CPL entry but no release yet
        await b.release("106C", "4331", "00AC", "00000005", date="2023-02-01", upgradable_from=("00000004",))
        await b.release("106C", "4331", "00AC", "00000006", date="2023-03-01", upgradable_from=("00000005",))
    before = await counts(pool)
    direct = await submit(pool, MAKER_A, submission("00000004", upgradableFrom=["00000005"]))
    assert error_of(direct) == {"code": "BAD_USER_INPUT", "field": "input.upgradableFrom[0]"}
    indirect = await submit(pool, MAKER_A, submission("00000004", upgradableFrom=["00000001", "00000006"]))
    assert error_of(indirect) == {"code": "BAD_USER_INPUT", "field": "input.upgradableFrom[1]"}
    assert await counts(pool) == before
    fine = await submit(pool, MAKER_A, submission("00000004", upgradableFrom=["00000001"]))
    assert fine.errors is None, fine.errors


async def test_upgrade_edge_from_a_later_listed_entry_is_refused(pool: asyncpg.Pool) -> None:
    # The catalogue lists 00000002..00000004 as entries 1002..1004 (release 00000001 is 1001).
    async with pool.acquire() as conn:
        await conn.execute("update firmware_releases set release_date = '2026-01-01'")  # dates never decide
        b = Builder(conn)
        await b.release(
            "106C", "4331", "00AC", "00000009", date="2020-01-01", status="SUBMITTED", cpl_status=None
        )
    before = await counts(pool)
    later = await submit(pool, MAKER_A, submission("00000003", upgradableFrom=["00000001", "00000004"]))
    assert error_of(later) == {"code": "BAD_USER_INPUT", "field": "input.upgradableFrom[1]"}
    assert "entry 1004" in later.errors[0].message and "entry 1003" in later.errors[0].message
    unlisted = await submit(pool, MAKER_A, submission("00000003", upgradableFrom=["00000009"]))
    assert error_of(unlisted) == {"code": "BAD_USER_INPUT", "field": "input.upgradableFrom[0]"}
    assert await counts(pool) == before
    # Earlier-listed sources are fine, and a submission not listed yet may upgrade from anything known.
    fine = await submit(pool, MAKER_A, submission("00000003", upgradableFrom=["00000002", "00000001"]))
    assert fine.errors is None, fine.errors
    waiting = await submit(pool, MAKER_A, submission("0000000A", upgradableFrom=["00000004", "00000009"]))
    assert waiting.errors is None and waiting.data["submitFirmwareRelease"]["status"] == "SUBMITTED"
