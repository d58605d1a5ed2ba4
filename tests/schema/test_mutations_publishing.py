"""submitFirmwareRelease and withdrawFirmwareRelease through the schema: access, validation, lifecycle, retries."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from loaders.db import Db
from resolvers import cpl_listing
from resolvers.cpl_import import import_cpl
from resolvers.cpl_rows import CONCATENATED, FIRMWARE, HW_REVISION, HW_VERSION, IMAGE_HASH, MODEL
from resolvers.principal import ANONYMOUS, Principal
from schema.schema import build_schema
from spreadsheets.cpl_files import CplWorkbook
from tests.builders import SECAS, SUPPLIER, Builder, error_of, execute, image_hash, publisher
from tests.fixtures_cpl import generated_row, with_cell, write_cpl

SCHEMA = build_schema()
MAKER_A = publisher("106C")
MAKER_B = publisher("1063")
READING_MAKER_B = Principal(
    subject="maker-1063-reader",
    scopes=frozenset({"fir:read", "fir:publish"}),
    manufacturers=frozenset({"1063"}),
)

SUBMIT = """mutation($input: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $input) {
  id version status cplEntryNumber publishedBy submittedBy upgradableFromVersions advisories urgency
} }"""
WITHDRAW = """mutation($id: ID!, $reason: String!) { withdrawFirmwareRelease(id: $id, reason: $reason) {
  id status withdrawnReason withdrawnAt
} }"""
LIST = """mutation($input: CplEntryInput!) { listCplEntry(input: $input) { number status release { id status } } }"""
RELEASE = "query($id: ID!) { firmwareRelease(id: $id) { id status } }"
DEVICE = """query($id: DeviceIdentityInput!) { device(identity: $id) {
  current { id status } latest { version } lineage { version }
} }"""


AMEND = """mutation($id: ID!, $input: AmendFirmwareReleaseInput!) {
  amendFirmwareRelease(id: $id, input: $input) { id upgradableFromVersions } }"""


def hash_of(fw: str) -> str:
    return image_hash(f"106C433100AC{fw}")


def submission(fw: str, **override: Any) -> dict[str, Any]:
    return {
        "manufacturerId": "106c ",
        "modelId": "4331",
        "hardwareVersion": "00ac",
        "firmwareVersion": fw,
        "imageHash": hash_of(fw).lower(),
        "releaseDate": "2024-05-01",
        "releaseNotes": "Fixes the join timer.",
        "urgency": "HIGH",
        "advisories": ["cve-2024-12345", "VENDOR-SA-7"],
        "upgradableFrom": [],
    } | override


def identity(fw: str) -> dict[str, str]:
    return {"manufacturerId": "106C", "modelId": "4331", "hardwareVersion": "00AC", "firmwareVersion": fw}


@pytest.fixture
async def catalogue(pool: asyncpg.Pool) -> None:
    """106C/4331/00AC: release 1 published; entries 2..4 listed Current without a release. 1063 exists too."""
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
        await b.manufacturer("1063")
        await b.model("1063", "4772", "GSME")
        await b.release("106C", "4331", "00AC", "00000001", date="2023-01-01")
        for fw in ("00000002", "00000003", "00000004"):
            await b.entry("106C", "4331", "00AC", fw)


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {
            t: await conn.fetchval(f"select count(*) from {t}")
            for t in ("firmware_releases", "release_upgradable_from", "audit_events")
        }


async def submit(pool: asyncpg.Pool, principal: Principal, values: dict[str, Any]) -> Any:
    return await execute(SCHEMA, pool, SUBMIT, principal, input=values)


# --- lifecycle ------------------------------------------------------------------------------------


async def test_listed_identity_and_hash_publish_at_once(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await submit(pool, MAKER_A, submission("00000002", upgradableFrom=["00000001"]))
    assert result.errors is None, result.errors
    release = result.data["submitFirmwareRelease"]
    assert release["status"] == "PUBLISHED" and release["cplEntryNumber"] == 1002
    assert release["publishedBy"] == "maker-106C" and release["submittedBy"] == "maker-106C"
    assert release["advisories"] == ["CVE-2024-12345", "VENDOR-SA-7"]
    assert release["upgradableFromVersions"] == ["00000001"]
    device = await execute(SCHEMA, pool, DEVICE, SUPPLIER, id=identity("00000001"))
    assert device.data["device"]["latest"]["version"] == "00000002"


async def test_unlisted_waits_then_listing_publishes(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await submit(pool, MAKER_A, submission("00000009"))
    release = result.data["submitFirmwareRelease"]
    assert release["status"] == "SUBMITTED" and release["cplEntryNumber"] is None
    listed = await execute(
        SCHEMA,
        pool,
        LIST,
        SECAS,
        input={
            "number": 2001,
            "deviceType": "CHF",
            **identity("00000009"),
            "imageHash": hash_of("00000009"),
            "cplVersion": "Version 2.051",
        },
    )
    assert listed.errors is None, listed.errors
    assert listed.data["listCplEntry"]["release"] == {"id": release["id"], "status": "PUBLISHED"}
    seen = await execute(SCHEMA, pool, RELEASE, SUPPLIER, id=release["id"])
    assert seen.data["firmwareRelease"]["status"] == "PUBLISHED"
    async with pool.acquire() as conn:
        published_by = await conn.fetchval(
            "select published_by from firmware_releases where id = $1", int(release["id"])
        )
    assert published_by == "secas-1"


async def test_drafts_are_their_owners_only(pool: asyncpg.Pool, catalogue: None) -> None:
    release = (await submit(pool, MAKER_A, submission("00000009"))).data["submitFirmwareRelease"]
    for principal, visible in ((MAKER_A, True), (SECAS, True), (MAKER_B, False), (SUPPLIER, False)):
        seen = await execute(SCHEMA, pool, RELEASE, principal, id=release["id"])
        assert (seen.data["firmwareRelease"] is not None) is visible, principal
        device = await execute(SCHEMA, pool, DEVICE, principal, id=identity("00000009"))
        assert (device.data["device"]["current"] is not None) is visible, principal


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (ANONYMOUS, "UNAUTHENTICATED"),
        (SUPPLIER, "FORBIDDEN"),
        (MAKER_B, "FORBIDDEN"),
        (MAKER_A, None),
        (SECAS, None),
    ],
)
async def test_submit_access(
    pool: asyncpg.Pool, catalogue: None, principal: Principal, code: str | None
) -> None:
    before = await counts(pool)
    result = await submit(pool, principal, submission("00000002"))
    if code is None:
        assert result.data["submitFirmwareRelease"]["status"] == "PUBLISHED"
        return
    assert error_of(result)["code"] == code
    assert await counts(pool) == before


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (ANONYMOUS, "UNAUTHENTICATED"),
        (SUPPLIER, "FORBIDDEN"),
        # fir:publish alone does not see another manufacturer's records, so it cannot probe them
        (MAKER_B, "NOT_FOUND"),
        (READING_MAKER_B, "FORBIDDEN"),
        (MAKER_A, None),
        (SECAS, None),
    ],
)
async def test_withdraw_access(
    pool: asyncpg.Pool, catalogue: None, principal: Principal, code: str | None
) -> None:
    release_id = (await submit(pool, MAKER_A, submission("00000002"))).data["submitFirmwareRelease"]["id"]
    before = await counts(pool)
    result = await execute(SCHEMA, pool, WITHDRAW, principal, id=release_id, reason="bricks meters")
    if code is None:
        assert result.data["withdrawFirmwareRelease"]["status"] == "WITHDRAWN"
        return
    assert error_of(result)["code"] == code
    assert await counts(pool) == before


async def test_others_draft_cannot_be_withdrawn_or_probed(pool: asyncpg.Pool, catalogue: None) -> None:
    draft = (await submit(pool, MAKER_A, submission("00000009"))).data["submitFirmwareRelease"]["id"]
    for release_id in (draft, "999999"):
        result = await execute(SCHEMA, pool, WITHDRAW, MAKER_B, id=release_id, reason="x")
        assert error_of(result) == {"code": "NOT_FOUND", "field": "id"}


# --- conflicts ------------------------------------------------------------------------------------


async def test_other_hash_than_live_release_is_conflict_and_audited(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    first = (await submit(pool, MAKER_A, submission("00000009"))).data["submitFirmwareRelease"]
    before = await counts(pool)
    result = await submit(pool, MAKER_A, submission("00000009", imageHash=image_hash("other")))
    error = error_of(result)
    assert error["code"] == "CONFLICT" and error["field"] == "input.imageHash"
    after = await counts(pool)
    assert after["firmware_releases"] == before["firmware_releases"]
    assert after["audit_events"] == before["audit_events"] + 1
    async with pool.acquire() as conn:
        row = await conn.fetchrow("select * from audit_events order by id desc limit 1")
    assert (row["action"], row["entity_type"], row["entity_id"]) == (
        "firmwareRelease.conflict",
        "FirmwareRelease",
        first["id"],
    )
    assert row["actor"] == "maker-106C" and row["after"]["imageHash"] == image_hash("other")


async def test_other_hash_than_cpl_entry_is_conflict(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await submit(pool, MAKER_A, submission("00000002", imageHash=image_hash("other")))
    assert error_of(result) | {"cplEntry": None} == {
        "code": "CONFLICT",
        "field": "input.imageHash",
        "cplEntry": None,
    }
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "select entity_type, entity_id from audit_events where action = 'firmwareRelease.conflict'"
        )
        assert await conn.fetchval("select count(*) from firmware_releases") == 1
    assert tuple(row) == ("CplEntry", "1002")


async def test_same_identity_other_details_is_conflict(pool: asyncpg.Pool, catalogue: None) -> None:
    await submit(pool, MAKER_A, submission("00000009"))
    result = await submit(pool, MAKER_A, submission("00000009", releaseNotes="Different"))
    assert error_of(result)["code"] == "CONFLICT"


# --- retries and concurrency ----------------------------------------------------------------------


async def test_retry_with_idempotency_key_returns_the_first_result(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    first = await submit(pool, MAKER_A, submission("00000009", idempotencyKey="req-1"))
    before = await counts(pool)
    again = await submit(pool, MAKER_A, submission("00000009", idempotencyKey="req-1"))
    assert again.data == first.data
    assert await counts(pool) == before
    reused = await submit(pool, MAKER_A, submission("0000000A", idempotencyKey="req-1"))
    assert error_of(reused)["field"] == "input.idempotencyKey"


async def test_identical_resubmission_returns_the_existing_release(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    first = await submit(pool, MAKER_A, submission("00000002", upgradableFrom=["00000001"]))
    before = await counts(pool)
    again = await submit(pool, MAKER_A, submission("00000002", upgradableFrom=["00000001"]))
    assert again.data == first.data
    assert await counts(pool) == before


async def test_twenty_identical_submissions_at_once_make_one_release(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    results = await asyncio.gather(*(submit(pool, MAKER_A, submission("00000009")) for _ in range(20)))
    assert all(r.errors is None for r in results), [r.errors for r in results if r.errors]
    assert len({r.data["submitFirmwareRelease"]["id"] for r in results}) == 1
    async with pool.acquire() as conn:
        assert (
            await conn.fetchval("select count(*) from firmware_releases where firmware_version = '00000009'")
            == 1
        )
        assert (
            await conn.fetchval("select count(*) from audit_events where action = 'firmwareRelease.submit'")
            == 1
        )


async def test_a_key_reused_for_another_hash_is_conflict_and_audited(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    """As the same resubmission without a key is: the attempt is on record."""
    first = await submit(pool, MAKER_A, submission("00000009", idempotencyKey="req-1"))
    result = await submit(
        pool, MAKER_A, submission("00000009", idempotencyKey="req-1", imageHash=image_hash("x"))
    )
    assert error_of(result)["field"] == "input.idempotencyKey"
    async with pool.acquire() as conn:
        row = await conn.fetchrow("select * from audit_events order by id desc limit 1")
    assert (row["action"], row["entity_id"]) == (
        "firmwareRelease.conflict",
        first.data["submitFirmwareRelease"]["id"],
    )
    assert row["after"]["imageHash"] == image_hash("x") and row["after"]["idempotencyKey"] == "req-1"


async def until_waiting(pool: asyncpg.Pool, count: int) -> None:
    """Until `count` sessions wait for a lock (an advisory lock, or a row another transaction holds)."""
    async with asyncio.timeout(10):
        while True:
            waiting = await pool.fetchval(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                " and datname = current_database()"
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.02)


async def test_two_amendments_at_once_close_no_cycle(pool: asyncpg.Pool, catalogue: None) -> None:
    """Amending A from B and B from A at once: each alone passes the cycle check; both committed
    would make a cycle. Held at their first write (another writer holds the data version row), the
    two checks ran before either committed, until amendments took the model lock."""
    a = (await submit(pool, MAKER_A, submission("00000011"))).data["submitFirmwareRelease"]["id"]
    b = (await submit(pool, MAKER_A, submission("00000012"))).data["submitFirmwareRelease"]["id"]
    async with pool.acquire() as blocker, blocker.transaction():
        await blocker.execute("update data_version set version = version + 1")
        amending = [
            asyncio.ensure_future(
                execute(SCHEMA, pool, AMEND, MAKER_A, id=one, input={"upgradableFrom": [source]})
            )
            for one, source in ((a, "00000012"), (b, "00000011"))
        ]
        await until_waiting(pool, 2)
    results = await asyncio.gather(*amending)
    assert sorted(str(r.errors is None) for r in results) == ["False", "True"], [r.errors for r in results]
    assert [error_of(r) for r in results if r.errors] == [
        {"code": "BAD_USER_INPUT", "field": "input.upgradableFrom[0]"}
    ]


async def test_a_submission_during_a_cpl_import_of_its_entry_is_published(
    pool: asyncpg.Pool, catalogue: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import lists the entry and, before it commits, publishes what waits for it; a submission
    in between saw no entry (not committed) and the import no submission (not committed): it stayed
    SUBMITTED for good. Here the import is held just before publishing, as a large one is for seconds."""
    reached, go = asyncio.Event(), asyncio.Event()
    publish_waiting = cpl_listing.publish_waiting

    async def held(work: Any, numbers: Any) -> Any:
        reached.set()
        await go.wait()
        return await publish_waiting(work, numbers)

    monkeypatch.setattr(cpl_listing, "publish_waiting", held)
    row = generated_row(77, manufacturer="106C")
    row = with_cell(with_cell(with_cell(row, MODEL, "4331"), HW_VERSION, "0"), HW_REVISION, "AC")
    row = with_cell(with_cell(row, CONCATENATED, None), FIRMWARE, "00000077")
    path = write_cpl(tmp_path / "cpl.csv", [with_cell(row, IMAGE_HASH, hash_of("00000077"))])
    importing = asyncio.ensure_future(
        import_cpl(Db(pool), CplWorkbook(path), actor="secas", organisation=None)
    )
    async with asyncio.timeout(10):
        await reached.wait()
    submitting = asyncio.ensure_future(submit(pool, MAKER_A, submission("00000077")))
    await until_waiting(pool, 1)
    go.set()
    report, result = await asyncio.gather(importing, submitting)
    assert report.added == 1 and report.problems == []
    assert result.errors is None and result.data["submitFirmwareRelease"]["status"] == "PUBLISHED"


async def test_concurrent_different_versions_all_land(pool: asyncpg.Pool, catalogue: None) -> None:
    versions = [f"000001{i:02X}" for i in range(12)]
    results = await asyncio.gather(*(submit(pool, MAKER_A, submission(v)) for v in versions))
    assert all(r.errors is None for r in results)
    assert sorted(r.data["submitFirmwareRelease"]["version"] for r in results) == versions


# --- withdrawal -----------------------------------------------------------------------------------


async def test_withdrawal_keeps_the_record_and_leaves_latest(pool: asyncpg.Pool, catalogue: None) -> None:
    release = (await submit(pool, MAKER_A, submission("00000002", upgradableFrom=["00000001"]))).data[
        "submitFirmwareRelease"
    ]
    result = await execute(SCHEMA, pool, WITHDRAW, MAKER_A, id=release["id"], reason="  bricks meters ")
    withdrawn = result.data["withdrawFirmwareRelease"]
    assert withdrawn["status"] == "WITHDRAWN" and withdrawn["withdrawnReason"] == "bricks meters"
    device = await execute(SCHEMA, pool, DEVICE, SUPPLIER, id=identity("00000001"))
    assert device.data["device"]["latest"]["version"] == "00000001"
    assert [r["version"] for r in device.data["device"]["lineage"]] == ["00000001"]
    before = await counts(pool)
    again = await execute(SCHEMA, pool, WITHDRAW, MAKER_A, id=release["id"], reason="again")
    assert again.data["withdrawFirmwareRelease"] == withdrawn  # idempotent: the first reason stays
    assert await counts(pool) == before
    fresh = await submit(pool, MAKER_A, submission("00000002"))
    assert fresh.data["submitFirmwareRelease"]["id"] != release["id"]


async def test_withdraw_needs_a_reason(pool: asyncpg.Pool, catalogue: None) -> None:
    release_id = (await submit(pool, MAKER_A, submission("00000002"))).data["submitFirmwareRelease"]["id"]
    result = await execute(SCHEMA, pool, WITHDRAW, MAKER_A, id=release_id, reason="  ")
    assert error_of(result) == {"code": "BAD_USER_INPUT", "field": "reason"}


# --- caches within one request --------------------------------------------------------------------

TWO = """mutation($a: SubmitFirmwareReleaseInput!, $b: SubmitFirmwareReleaseInput!) {
  a: submitFirmwareRelease(input: $a) { version upgradableFrom { version upgradesTo { version } } }
  b: submitFirmwareRelease(input: $b) { version upgradableFrom { version upgradesTo { version } } }
}"""


async def test_second_mutation_sees_the_first_ones_write(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await execute(
        SCHEMA,
        pool,
        TWO,
        MAKER_A,
        a=submission("00000002", upgradableFrom=["00000001"]),
        b=submission("00000003", upgradableFrom=["00000002"]),
    )
    assert result.errors is None, result.errors
    assert result.data["a"]["upgradableFrom"] == [
        {"version": "00000001", "upgradesTo": [{"version": "00000002"}]}
    ]
    # 00000002 was loaded (with its successors) while resolving `a`; `b` must not see that stale list
    assert result.data["b"]["upgradableFrom"] == [
        {"version": "00000002", "upgradesTo": [{"version": "00000003"}]}
    ]
