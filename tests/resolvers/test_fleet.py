"""fleetStatus: grouping in first-seen order, summary counts, problems, one round trip per kind of row."""

from __future__ import annotations

import asyncpg
import pytest

from resolvers.principal import ANONYMOUS
from schema.schema import build_schema
from tests.builders import SUPPLIER, Builder, execute

FLEET = """query($devices: [FleetDeviceInput!]!) { fleetStatus(devices: $devices) {
  total distinct upToDate outdated notOnCpl noUpgradePath invalid
  problems { index ref field message }
  groups { count refs status { identity { firmwareVersion } onCpl isLatest upgradePath { version } } }
} }"""


def dev(fw: str, ref: str | None = None, model: str = "4331") -> dict[str, str | None]:
    return {
        "ref": ref,
        "manufacturerId": "106c",
        "modelId": model,
        "hardwareVersion": "00ac",
        "firmwareVersion": fw,
    }


@pytest.fixture
async def model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        await b.model("106C", "5000", "ESME")
        await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01")
        await b.release("106C", "4331", "00AC", "00000002", date="2021-01-01")  # no edge: a gap
        await b.release("106C", "4331", "00AC", "00000003", date="2022-01-01", upgradable_from=("00000002",))
        await b.release("106C", "5000", "00AC", "00000001", date="2020-01-01")


async def test_fleet_groups_counts_and_problems(pool: asyncpg.Pool, model: None) -> None:
    devices = [
        dev("00000002", "m1"),
        dev("00000003", "m2"),
        dev(" 00000002 ", "m3"),
        dev("0000000Z", "bad"),
        dev("00000001", None),
        dev("0000FFFF", "m5"),
        dev("00000001", "m6", model="5000"),
    ]
    result = await execute(build_schema(), pool, FLEET, SUPPLIER, devices=devices)
    assert result.errors is None, result.errors
    f = result.data["fleetStatus"]
    assert (f["total"], f["distinct"], f["invalid"]) == (7, 5, 1)
    assert f["problems"] == [
        {
            "index": 3,
            "ref": "bad",
            "field": "firmwareVersion",
            "message": "firmwareVersion must be 8 hexadecimal digits, got '0000000Z'",
        }
    ]
    groups = f["groups"]
    assert [g["status"]["identity"]["firmwareVersion"] for g in groups] == [
        "00000002",
        "00000003",
        "00000001",
        "0000FFFF",
        "00000001",
    ]
    assert groups[0]["count"] == 2 and groups[0]["refs"] == ["m1", "m3"]
    assert groups[0]["status"]["upgradePath"][0]["version"] == "00000003"
    assert groups[2]["refs"] == [] and groups[2]["status"]["upgradePath"] is None  # the gap
    assert groups[3]["status"]["onCpl"] is False
    # up to date: m2 and m6; outdated: m1, m3, the 00000001 device, m5; no path: 00000001 and 0000FFFF
    assert (f["upToDate"], f["outdated"], f["notOnCpl"], f["noUpgradePath"]) == (2, 4, 1, 2)
    # one statement: identities (CPL entry, model, manufacturer) and the releases of every model+hardware
    # (loaders.devices.device_rows; was 2, identities and releases apart)
    assert result.context.loaders.db.log.count == 1, result.context.loaders.db.log.statements


async def test_fleet_statement_count_does_not_grow(pool: asyncpg.Pool, model: None) -> None:
    devices = [dev(f"{i % 500:08X}", f"r{i}") for i in range(5000)]
    result = await execute(build_schema(), pool, FLEET, SUPPLIER, devices=devices)
    assert result.errors is None
    assert result.data["fleetStatus"]["distinct"] == 500
    assert result.context.loaders.db.log.count == 1


async def test_anonymous_fleet_counts_from_the_fir_are_forbidden_not_zero(
    pool: asyncpg.Pool, model: None
) -> None:
    query = """query($devices: [FleetDeviceInput!]!) { fleetStatus(devices: $devices) {
      total distinct notOnCpl invalid upToDate outdated noUpgradePath groups { count status { onCpl } } } }"""
    devices = [dev("00000002"), dev("00000003"), dev("0000FFFF"), dev("zz")]
    result = await execute(build_schema(), pool, query, ANONYMOUS, devices=devices)
    f = result.data["fleetStatus"]
    assert (f["total"], f["distinct"], f["notOnCpl"], f["invalid"]) == (4, 3, 1, 1)
    assert (f["upToDate"], f["outdated"], f["noUpgradePath"]) == (None, None, None)
    assert [g["status"]["onCpl"] for g in f["groups"]] == [True, True, False]
    forbidden = {tuple(e.path): e.extensions["code"] for e in result.errors}
    assert forbidden == {
        ("fleetStatus", "upToDate"): "FORBIDDEN",
        ("fleetStatus", "outdated"): "FORBIDDEN",
        ("fleetStatus", "noUpgradePath"): "FORBIDDEN",
    }
    seen = await execute(build_schema(), pool, query, SUPPLIER, devices=devices)
    assert seen.errors is None
    assert (seen.data["fleetStatus"]["upToDate"], seen.data["fleetStatus"]["outdated"]) == (1, 2)


async def test_firmware_in_any_cpl_coding_groups_with_its_plain_form(pool: asyncpg.Pool, model: None) -> None:
    forms = ["00000002", "0x2", "0.0.0.2", "00:00:00:02", " 2 ", "0X00000002"]
    devices = [dev(fw, f"r{i}") for i, fw in enumerate(forms)] + [dev("0.0.2", "bad")]
    result = await execute(build_schema(), pool, FLEET, SUPPLIER, devices=devices)
    assert result.errors is None, result.errors
    f = result.data["fleetStatus"]
    assert (f["distinct"], f["invalid"]) == (1, 1) and f["groups"][0]["count"] == 6
    assert f["groups"][0]["status"]["identity"]["firmwareVersion"] == "00000002"
    assert f["problems"][0]["field"] == "firmwareVersion"
