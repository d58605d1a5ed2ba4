"""What a supplier acts on follows CPL listing order through the API: a device on firmware listed
after the FIR's latest release is not told to go back to it, and no upgrade path steps back."""

from __future__ import annotations

import asyncpg

from schema.schema import build_schema
from tests.builders import SUPPLIER, Builder, execute, identity_input

SCHEMA = build_schema()
DEVICE = """query($i: DeviceIdentityInput!) { device(identity: $i) { cplEntry { number } isLatest
  latest { version cplEntryNumber } upgradePath { version cplEntryNumber } } }"""
FLEET = """query($d: [FleetDeviceInput!]!) {
  fleetStatus(devices: $d) { total upToDate outdated noUpgradePath } }"""


async def test_firmware_listed_after_the_latest_release_is_ahead(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        builder = Builder(conn)
        await builder.chain("00000001", "00000002")
        await builder.entry("106C", "4331", "00AC", "00000003")  # Current, its maker has not published it
    device = (await execute(SCHEMA, pool, DEVICE, SUPPLIER, i=identity_input("00000003"))).data["device"]
    assert device["cplEntry"]["number"] > device["latest"]["cplEntryNumber"]
    assert device["isLatest"] is None and device["upgradePath"] is None
    fleet = await execute(
        SCHEMA, pool, FLEET, SUPPLIER, d=[identity_input("00000003"), identity_input("00000001")]
    )
    assert fleet.data["fleetStatus"] == {"total": 2, "upToDate": 0, "outdated": 1, "noUpgradePath": 0}


async def test_no_upgrade_path_steps_back_to_an_earlier_entry(pool: asyncpg.Pool) -> None:
    """0000000A (listed first) names 0000000B, listed after it, as a source: a backward edge, which
    listCplEntry accepts and reports. 0000000B's release is withdrawn, so latest is 0000000A."""
    async with pool.acquire() as conn:
        builder = Builder(conn)
        await builder.manufacturer("106C")
        await builder.model("106C", "4331", "CHF")
        await builder.release(
            "106C", "4331", "00AC", "0000000A", date="2020-01-01", upgradable_from=("0000000B",)
        )
        await builder.release("106C", "4331", "00AC", "0000000B", date="2021-01-01", status="WITHDRAWN")
    device = (await execute(SCHEMA, pool, DEVICE, SUPPLIER, i=identity_input("0000000B"))).data["device"]
    assert device["latest"]["version"] == "0000000A"
    assert device["cplEntry"]["number"] > device["latest"]["cplEntryNumber"]
    assert device["isLatest"] is False and device["upgradePath"] is None  # withdrawn: not "ahead"
