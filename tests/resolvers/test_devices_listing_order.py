"""What a supplier acts on follows CPL listing order through the API: a device on firmware listed
after the FIR's latest release is not told to go back to it, and no upgrade path steps back."""

from __future__ import annotations

import asyncpg

from schema.schema import build_schema
from tests.builders import (
    SECAS,
    SUPPLIER,
    Builder,
    execute,
    identity_input,
    listing_input,
    publisher,
    submission_input,
)

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
    listCplEntry accepts (the CPL import reports it). 0000000B's release is withdrawn, so latest is 0000000A."""
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


SUBMIT = "mutation($input: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $input) { id } }"
WITHDRAW = 'mutation($id: ID!) { withdrawFirmwareRelease(id: $id, reason: "pulled") { status } }'
LIST = "mutation($input: CplEntryInput!) { listCplEntry(input: $input) { number } }"


async def test_a_submission_withdrawn_before_publication_leaves_the_device_ahead_for_everyone(
    pool: asyncpg.Pool,
) -> None:
    """Its maker withdrew 00000002 while it was a submission; SECAS then listed it after the latest.
    The FIR never published it, so the device is ahead (null) whoever asks: SECAS and the maker,
    who see the withdrawn submission, were told outdated with no path, a supplier null."""
    maker = publisher("106C")
    async with pool.acquire() as conn:
        await Builder(conn).chain("00000001")
    submitted = await execute(SCHEMA, pool, SUBMIT, maker, input=submission_input("00000002"))
    await execute(SCHEMA, pool, WITHDRAW, maker, id=submitted.data["submitFirmwareRelease"]["id"])
    assert (await execute(SCHEMA, pool, LIST, SECAS, input=listing_input(2000, "00000002"))).errors is None
    for principal in (SUPPLIER, SECAS, maker):
        device = (await execute(SCHEMA, pool, DEVICE, principal, i=identity_input("00000002"))).data["device"]
        assert (device["isLatest"], device["upgradePath"]) == (None, None), principal.subject
        fleet = await execute(SCHEMA, pool, FLEET, principal, d=[identity_input("00000002")])
        counts = fleet.data["fleetStatus"]
        assert (counts["upToDate"], counts["outdated"], counts["noUpgradePath"]) == (0, 0, 0), (
            principal.subject
        )
