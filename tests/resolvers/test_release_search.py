"""firmwareReleases: the everyday searches, visibility per row, paging, and a pinned statement count."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from resolvers.principal import Principal
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, Builder, execute, publisher

SCHEMA = build_schema()
SEARCH = """query($first: Int, $after: String, $m: String, $model: String, $type: DeviceType,
  $status: ReleaseStatus, $urgency: Urgency, $advisory: String, $since: DateTime) {
  firmwareReleases(first: $first, after: $after, manufacturerId: $m, modelId: $model, deviceType: $type,
    status: $status, urgency: $urgency, advisory: $advisory, publishedSince: $since) {
    nodes { id version status urgency model { deviceType } manufacturer { name } cplEntry { number } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
async def releases(pool: asyncpg.Pool) -> dict[str, int]:
    """Gas and electricity meters of two makers; one CRITICAL gas fix for a CVE, one old, one submitted."""
    async with pool.acquire() as conn:
        b = Builder(conn)
        for mid in ("106C", "1063"):
            await b.manufacturer(mid)
            await b.model(mid, "0001", "GSME")
            await b.model(mid, "0002", "ESME")
        ids = {
            "gas_fix": await b.release("106C", "0001", "0001", "00000002", date="2026-03-02"),
            "gas_old": await b.release("106C", "0001", "0001", "00000001", date="2025-01-01"),
            "electric": await b.release("1063", "0002", "0001", "00000001", date="2026-03-03"),
            "other_gas": await b.release("1063", "0001", "0001", "00000001", date="2026-03-04"),
            "submitted": await b.release(
                "106C", "0002", "0001", "00000009", date="2026-03-05", status="SUBMITTED", cpl_status=None
            ),
        }
        await conn.execute(
            "update firmware_releases set urgency = 'CRITICAL', advisories = '{CVE-2026-31001}',"
            " published_at = '2026-03-02T09:00:00Z' where id = $1",
            ids["gas_fix"],
        )
        await conn.execute(
            "update firmware_releases set urgency = 'CRITICAL', advisories = '{CVE-2026-31001,CVE-2026-1}'"
            " where id = $1",
            ids["submitted"],
        )
        await conn.execute(
            "update firmware_releases set published_at = '2025-01-05T09:00:00Z' where id = any($1::bigint[])",
            [ids["gas_old"], ids["electric"], ids["other_gas"]],
        )
    return ids


async def found(pool: asyncpg.Pool, who: Principal, **variables: Any) -> list[int]:
    result = await execute(SCHEMA, pool, SEARCH, who, **variables)
    assert result.errors is None, result.errors
    return [int(n["id"]) for n in result.data["firmwareReleases"]["nodes"]]


async def test_every_release_fixing_a_cve(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    assert await found(pool, SUPPLIER, advisory="CVE-2026-31001") == [releases["gas_fix"]]
    # the owner and SECAS also see the submission that names it
    expected = [releases["submitted"], releases["gas_fix"]]
    assert await found(pool, publisher("106C"), advisory="CVE-2026-31001") == expected
    assert await found(pool, SECAS, advisory="CVE-2026-31001") == expected


async def test_critical_releases_for_gas_meters(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    assert await found(pool, SUPPLIER, urgency="CRITICAL", type="GSME") == [releases["gas_fix"]]
    gas = await found(pool, SUPPLIER, type="GSME")
    assert gas == [releases["other_gas"], releases["gas_old"], releases["gas_fix"]]  # newest first


async def test_published_since_monday(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    assert await found(pool, SUPPLIER, since="2026-03-02T00:00:00Z") == [releases["gas_fix"]]
    assert await found(pool, SUPPLIER, since="2026-03-02T10:00:00Z") == []


async def test_filters_by_maker_model_and_status(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    assert await found(pool, SUPPLIER, m="1063") == [releases["other_gas"], releases["electric"]]
    assert await found(pool, SUPPLIER, m="1063", model="0002") == [releases["electric"]]
    assert await found(pool, SUPPLIER, status="SUBMITTED") == []
    assert await found(pool, publisher("106C"), status="SUBMITTED") == [releases["submitted"]]


async def test_each_row_is_as_visible_as_the_release(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    assert len(await found(pool, SECAS)) == 5
    assert len(await found(pool, SUPPLIER)) == 4
    # a publisher without fir:read: its own releases, drafts included, and nobody else's
    assert sorted(await found(pool, publisher("106C"))) == sorted(
        [releases["gas_fix"], releases["gas_old"], releases["submitted"]]
    )
    anonymous = await execute(SCHEMA, pool, SEARCH, Principal())
    assert anonymous.data is None and anonymous.errors[0].extensions["code"] == "FORBIDDEN"


async def test_pages_follow_the_cursor(pool: asyncpg.Pool, releases: dict[str, int]) -> None:
    first = await execute(SCHEMA, pool, SEARCH, SECAS, first=2)
    page = first.data["firmwareReleases"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await found(pool, SECAS, after=page["pageInfo"]["endCursor"])
    assert [int(n["id"]) for n in page["nodes"]] + rest == await found(pool, SECAS)


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"model": "XYZ"}, "modelId"), ({"m": "1"}, "manufacturerId"), ({"advisory": ""}, "advisory")],
)
async def test_malformed_filters_are_refused(
    pool: asyncpg.Pool, variables: dict[str, str], field: str
) -> None:
    result = await execute(SCHEMA, pool, SEARCH, SUPPLIER, **variables)
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert result.errors[0].extensions["field"] == field


@pytest.mark.parametrize("first", [1, 4])
async def test_statement_count_is_constant(pool: asyncpg.Pool, releases: dict[str, int], first: int) -> None:
    result = await execute(SCHEMA, pool, SEARCH, SUPPLIER, first=first)
    assert len(result.data["firmwareReleases"]["nodes"]) == first
    # the page, models, manufacturers, CPL entries
    assert result.context.loaders.db.log.count == 4, result.context.loaders.db.log.statements
