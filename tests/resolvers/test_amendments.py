"""amendFirmwareRelease: same id and hash, every revision kept, audited, validated as submit, owner or SECAS."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from resolvers.principal import ANONYMOUS, PUBLISH, READ, Principal
from schema.schema import build_schema
from tests.builders import (
    SECAS,
    SUPPLIER,
    Builder,
    audit_rows,
    error_of,
    execute,
    listing_input,
    publisher,
    submission_input,
)

SCHEMA = build_schema()
OWNER = publisher("106C")
READING_MAKER_1063 = Principal(
    subject="maker-1063-reader", scopes=frozenset({READ, PUBLISH}), manufacturers=frozenset({"1063"})
)
AMEND = """mutation($id: ID!, $input: AmendFirmwareReleaseInput!) { amendFirmwareRelease(id: $id, input: $input) {
  id version imageHash status releaseNotes urgency advisories upgradableFromVersions
  revisions { revision releaseNotes urgency advisories upgradableFromVersions reason }
} }"""
LIST = "mutation($input: CplEntryInput!) { listCplEntry(input: $input) { number } }"
REVISIONS = """query($id: ID!) { firmwareRelease(id: $id) { revisions { revision releaseNotes } } }"""


@pytest.fixture
async def releases(pool: asyncpg.Pool) -> dict[str, int]:
    """Versions 1, 2 and 3 of one model, listed as entries 1001, 1002 and 1003; 3 upgrades from 2."""
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.manufacturer("1063")
        await b.model("106C", "4331", "CHF")
        ids = {
            "v1": await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01"),
            "v2": await b.release("106C", "4331", "00AC", "00000002", date="2021-01-01"),
            "v3": await b.release(
                "106C", "4331", "00AC", "00000003", date="2022-01-01", upgradable_from=("00000002",)
            ),
        }
        ids["withdrawn"] = await b.release(
            "106C", "4331", "00AC", "00000004", date="2022-06-01", status="WITHDRAWN"
        )
        return ids


async def amend(pool: asyncpg.Pool, release_id: int, principal: Principal = OWNER, **input: Any) -> Any:
    return await execute(SCHEMA, pool, AMEND, principal, id=str(release_id), input=input)


@pytest.mark.parametrize("principal", [OWNER, SECAS])
async def test_amendment_keeps_identity_and_every_revision(
    pool: asyncpg.Pool, releases: dict[str, int], principal: Principal
) -> None:
    v3 = releases["v3"]
    first = await amend(
        pool,
        v3,
        principal,
        releaseNotes="Also fixes the join retry loop.",
        urgency="CRITICAL",
        advisories=["cve-2026-31001"],
        upgradableFrom=["00000002", "00000001"],
        reason="CVE assigned",
    )
    assert first.errors is None, first.errors
    got = first.data["amendFirmwareRelease"]
    assert (got["id"], got["version"], got["status"]) == (str(v3), "00000003", "PUBLISHED")
    assert (got["urgency"], got["advisories"]) == ("CRITICAL", ["CVE-2026-31001"])
    assert got["upgradableFromVersions"] == ["00000001", "00000002"]
    assert [(r["revision"], r["releaseNotes"], r["urgency"], r["reason"]) for r in got["revisions"]] == [
        (1, "Notes", "MEDIUM", None),
        (2, "Also fixes the join retry loop.", "CRITICAL", "CVE assigned"),
    ]
    assert got["revisions"][0]["upgradableFromVersions"] == ["00000002"]

    second = await amend(pool, v3, principal, urgency=None)  # null clears; the rest is kept
    assert second.errors is None, second.errors
    again = second.data["amendFirmwareRelease"]
    assert (again["urgency"], again["releaseNotes"]) == (None, "Also fixes the join retry loop.")
    assert [r["revision"] for r in again["revisions"]] == [1, 2, 3]
    assert again["imageHash"] == got["imageHash"]

    [first_event, second_event] = await audit_rows(pool)
    assert (first_event["action"], first_event["entity_id"]) == ("firmwareRelease.amend", str(v3))
    assert first_event["before"]["urgency"] == "MEDIUM" and first_event["after"]["urgency"] == "CRITICAL"
    assert first_event["after"]["upgradable_from"] == ["00000001", "00000002"]
    assert first_event["actor"] == principal.subject and second_event["after"]["urgency"] is None


async def test_an_amendment_that_changes_nothing_writes_nothing(
    pool: asyncpg.Pool, releases: dict[str, int]
) -> None:
    result = await amend(pool, releases["v3"], releaseNotes="Notes", upgradableFrom=["00000002"])
    assert result.errors is None, result.errors
    assert [r["revision"] for r in result.data["amendFirmwareRelease"]["revisions"]] == [1]
    assert await audit_rows(pool) == []


async def test_a_release_never_amended_has_one_revision(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    result = await execute(SCHEMA, pool, REVISIONS, SUPPLIER, id=str(releases["v1"]))
    assert result.data["firmwareRelease"]["revisions"] == [{"revision": 1, "releaseNotes": "Notes"}]


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"advisories": ["CVE-24-1"]}, "input.advisories[0]"),
        ({"releaseNotes": "x" * 20_001}, "input.releaseNotes"),
        ({"upgradableFrom": ["00000009"]}, "input.upgradableFrom[0]"),  # not listed nor recorded
        ({"upgradableFrom": ["00000003"]}, "input.upgradableFrom[0]"),  # its own version
        ({"upgradableFrom": ["00000002", "00000002"]}, "input.upgradableFrom[1]"),
    ],
)
async def test_amendments_are_validated_as_submissions_are(
    pool: asyncpg.Pool, releases: dict[str, int], input: dict[str, Any], field: str
) -> None:
    result = await amend(pool, releases["v3"], **input)
    assert error_of(result) == {"code": "BAD_USER_INPUT", "field": field}
    assert await audit_rows(pool) == []


async def test_an_upgrade_source_listed_later_or_closing_a_cycle_is_refused(
    pool: asyncpg.Pool, releases: dict[str, int]
) -> None:
    # v2 (entry 1002) upgrading from v3 (entry 1003) runs backwards in listing order, and would
    # also close the cycle 2 -> 3 -> 2
    backwards = await amend(pool, releases["v2"], upgradableFrom=["00000003"])
    assert error_of(backwards) == {"code": "BAD_USER_INPUT", "field": "input.upgradableFrom[0]"}
    assert "listed as CPL entry 1003" in backwards.errors[0].message
    result = await execute(SCHEMA, pool, REVISIONS, SECAS, id=str(releases["v2"]))
    assert result.data["firmwareRelease"]["revisions"] == [{"revision": 1, "releaseNotes": "Notes"}]


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (ANONYMOUS, "UNAUTHENTICATED"),
        (SUPPLIER, "FORBIDDEN"),
        (publisher("1063"), "NOT_FOUND"),  # may not even see 106C's records
        (READING_MAKER_1063, "FORBIDDEN"),  # sees the release, may not change it
    ],
)
async def test_only_the_owner_or_secas_may_amend(
    pool: asyncpg.Pool, releases: dict[str, int], principal: Principal, code: str
) -> None:
    result = await amend(pool, releases["v3"], principal, releaseNotes="mine now")
    assert error_of(result)["code"] == code
    assert await audit_rows(pool) == []


async def test_withdrawn_and_unknown_releases(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    assert error_of(await amend(pool, releases["withdrawn"], releaseNotes="x")) == {
        "code": "CONFLICT",
        "field": "id",
    }
    assert error_of(await amend(pool, 999_999, releaseNotes="x")) == {"code": "NOT_FOUND", "field": "id"}


async def test_what_a_release_said_before_publication_stays_its_owners(
    pool: asyncpg.Pool, releases: dict[str, int]
) -> None:
    """A submission's notes amended before it was listed were never the FIR's (the change feed keeps
    such amendments private too): fir:read sees the revisions from the one in force at publication."""
    submit = "mutation($input: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $input) { id } }"
    submitted = await execute(
        SCHEMA,
        pool,
        submit,
        OWNER,
        input=submission_input("00000005") | {"releaseNotes": "Internal: key leak"},
    )
    release_id = int(submitted.data["submitFirmwareRelease"]["id"])
    assert (await amend(pool, release_id, releaseNotes="Fixes a security issue.")).errors is None
    listed = await execute(SCHEMA, pool, LIST, SECAS, input=listing_input(1005, "00000005"))
    assert listed.errors is None, listed.errors
    assert (
        await amend(pool, release_id, releaseNotes="Fixes a security issue (CVE pending).")
    ).errors is None

    def notes(principal: Principal) -> Any:
        return execute(SCHEMA, pool, REVISIONS, principal, id=str(release_id))

    everything = [
        (1, "Internal: key leak"),
        (2, "Fixes a security issue."),
        (3, "Fixes a security issue (CVE pending)."),
    ]
    for principal, expected in ((OWNER, everything), (SECAS, everything), (SUPPLIER, everything[1:])):
        result = await notes(principal)
        assert result.errors is None, result.errors
        got = [(r["revision"], r["releaseNotes"]) for r in result.data["firmwareRelease"]["revisions"]]
        assert got == expected, principal.subject
