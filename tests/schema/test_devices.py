"""The device query end to end through the schema, on a hand-built model."""

from __future__ import annotations

import asyncpg
import pytest

from resolvers.principal import ANONYMOUS
from schema.schema import build_schema
from tests.builders import SUPPLIER, Builder, execute, identity_input

DEVICE = """query($id: DeviceIdentityInput!) { device(identity: $id) {
  identity { manufacturerId firmwareVersion } onCpl isLatest
  cplEntry { number status } model { name } manufacturer { name }
  current { version } latest { version } upgradePath { version } lineage { version }
  contacts { role email }
} }"""


@pytest.fixture
async def chain(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001", "00000002", "00000003")


async def test_device_status_for_supplier(pool: asyncpg.Pool, chain: None) -> None:
    ident = {
        "manufacturerId": " 106c ",
        "modelId": "4331",
        "hardwareVersion": "00ac",
        "firmwareVersion": "00000001",
    }
    result = await execute(build_schema(), pool, DEVICE, SUPPLIER, id=ident)
    assert result.errors is None, result.errors
    d = result.data["device"]
    assert d["identity"] == {"manufacturerId": "106C", "firmwareVersion": "00000001"}
    assert d["onCpl"] is True and d["isLatest"] is False
    assert d["latest"]["version"] == "00000003"
    assert [s["version"] for s in d["upgradePath"]] == ["00000002", "00000003"]
    assert [s["version"] for s in d["lineage"]] == ["00000001", "00000002", "00000003"]
    assert d["contacts"][0]["role"] == "FIRMWARE"


async def test_anonymous_sees_cpl_but_not_fir(pool: asyncpg.Pool, chain: None) -> None:
    ident = {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "00000001",
    }
    result = await execute(build_schema(), pool, DEVICE, ANONYMOUS, id=ident)
    d = result.data["device"]
    assert d["cplEntry"]["status"] == "CURRENT" and d["manufacturer"]["name"]
    assert d["latest"] is None and d["lineage"] == [] and d["contacts"] is None
    forbidden = {tuple(e.path) for e in result.errors if e.extensions["code"] == "FORBIDDEN"}
    assert ("device", "lineage") in forbidden and ("device", "latest") in forbidden


async def test_malformed_identity_is_bad_user_input(pool: asyncpg.Pool) -> None:
    ident = {
        "manufacturerId": "106",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "00000001",
    }
    result = await execute(build_schema(), pool, DEVICE, SUPPLIER, id=ident)
    assert result.data is None
    [error] = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "identity.manufacturerId"}


async def test_latest_follows_cpl_listing_order_not_release_date(pool: asyncpg.Pool) -> None:
    # Issue 10: entry 10 is dated 2025-05-19; entry 13, listed later, is dated 2025-01-01 and
    # upgrades from it. The device on entry 10's firmware is not on the latest.
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        await b.release("106C", "4331", "00AC", "12610010", date="2025-05-19", number=10)
        await b.release(
            "106C", "4331", "00AC", "12620001", date="2025-01-01", upgradable_from=("12610010",), number=13
        )
    ident = {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "12610010",
    }
    query = """query($id: DeviceIdentityInput!) { device(identity: $id) {
      isLatest latest { cplEntryNumber } upgradePath { cplEntryNumber } lineage { cplEntryNumber } } }"""
    result = await execute(build_schema(), pool, query, SUPPLIER, id=ident)
    assert result.errors is None, result.errors
    d = result.data["device"]
    assert d["isLatest"] is False and d["latest"] == {"cplEntryNumber": 13}
    assert d["upgradePath"] == [{"cplEntryNumber": 13}]
    assert d["lineage"] == [{"cplEntryNumber": 10}, {"cplEntryNumber": 13}]


@pytest.mark.parametrize("firmware", ["0x00000001", "0x1", "00.00.00.01", "0:0:0:1", "1", " 00000001 "])
async def test_identity_input_accepts_the_cpl_firmware_codings(
    pool: asyncpg.Pool, chain: None, firmware: str
) -> None:
    result = await execute(build_schema(), pool, DEVICE, SUPPLIER, id=identity_input(firmware))
    assert result.errors is None, result.errors
    d = result.data["device"]
    assert d["identity"]["firmwareVersion"] == "00000001" and d["onCpl"] is True


@pytest.mark.parametrize("firmware", ["1.2.3", "0000001G", "124074D", "0x123456789"])
async def test_ambiguous_firmware_input_is_refused(pool: asyncpg.Pool, chain: None, firmware: str) -> None:
    result = await execute(build_schema(), pool, DEVICE, SUPPLIER, id=identity_input(firmware))
    [error] = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "identity.firmwareVersion"}
