"""Demo data: realistic counts, every device type, the real CPL rows, the upgrade-path cases, determinism."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator

import asyncpg
import pytest

from gateway.database import DatabaseHandle
from loaders.demo import (
    SHOWCASE,
    DatabaseNotEmptyError,
    DemoSummary,
    database_is_empty,
    demo_identities,
    load_demo_data,
)
from tests.conftest import fresh_database

Lineage = tuple[str, str, str]

# Every column except the ones the database fills with the wall clock.
_CHECKSUM_QUERIES = (
    "select manufacturer_id, name, website from manufacturers order by 1",
    "select id, manufacturer_id, role, name, email, phone, position, retired_at from contacts order by id",
    "select manufacturer_id, model_id, name, device_type from device_models order by 1, 2",
    "select number, status, manufacturer_id, model_id, hardware_version, firmware_version, device_type,"
    " smets_chts_version, gbcs_version, image_hash, cpl_version, listed_on, removed_on"
    " from cpl_entries order by number",
    "select id, manufacturer_id, model_id, hardware_version, firmware_version, image_hash, status,"
    " cpl_entry_number, release_date, release_notes, urgency, advisories, idempotency_key, submitted_by,"
    " submitted_org, submitted_at, published_at, published_by, withdrawn_at, withdrawn_by, withdrawn_reason"
    " from firmware_releases order by id",
    "select release_id, from_firmware_version from release_upgradable_from order by 1, 2",
    "select actor, organisation, action, entity_type, entity_id, before, after::text"
    " from audit_events order by id",
)


@pytest.fixture(scope="module")
async def loaded(
    pg_server: DatabaseHandle, template_db: str
) -> AsyncIterator[tuple[asyncpg.Connection, DemoSummary]]:
    """One scale-1 load shared by the read-only tests of this module."""
    url = await fresh_database(pg_server.url, template_db)
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        summary = await load_demo_data(conn)
        print(f"\ndemo scale 1 loaded in {time.perf_counter() - started:.2f}s: {summary}")
        yield conn, summary
    finally:
        await conn.close()


async def _checksum(conn: asyncpg.Connection) -> str:
    digest = hashlib.sha256()
    for sql in _CHECKSUM_QUERIES:
        for row in await conn.fetch(sql):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


async def _count(conn: asyncpg.Connection, sql: str) -> int:
    return int(await conn.fetchval(sql))


async def test_counts_at_scale_one(loaded: tuple[asyncpg.Connection, DemoSummary]) -> None:
    conn, summary = loaded
    assert 18 <= summary.manufacturers <= 25
    assert 250 <= summary.models <= 360
    assert 2500 <= summary.cpl_entries <= 3600
    assert summary.releases > 0.8 * summary.cpl_entries
    assert summary.edges > summary.releases
    assert 0.10 <= summary.removed / summary.cpl_entries <= 0.20
    assert summary.withdrawn >= 3 and summary.drafts >= 2 and summary.submitted >= 3
    assert await _count(conn, "select count(*) from manufacturers") == summary.manufacturers
    assert await _count(conn, "select count(*) from contacts") == summary.contacts
    assert await _count(conn, "select count(*) from device_models") == summary.models
    assert await _count(conn, "select count(*) from cpl_entries") == summary.cpl_entries
    assert await _count(conn, "select count(*) from firmware_releases") == summary.releases
    assert await _count(conn, "select count(*) from release_upgradable_from") == summary.edges


async def test_every_device_type_is_present(loaded: tuple[asyncpg.Connection, DemoSummary]) -> None:
    conn, _ = loaded
    rows = await conn.fetch("select distinct device_type::text from cpl_entries")
    assert {r[0] for r in rows} == {"ESME", "GSME", "CHF", "GPF", "PPMID", "HCALCS", "IHD", "CAD"}


async def test_entries_take_their_models_device_type(loaded: tuple[asyncpg.Connection, DemoSummary]) -> None:
    conn, _ = loaded
    mismatched = await _count(
        conn,
        "select count(*) from cpl_entries e join device_models m using (manufacturer_id, model_id)"
        " where e.device_type <> m.device_type",
    )
    assert mismatched == 0


async def test_the_real_cpl_rows_are_exact(loaded: tuple[asyncpg.Connection, DemoSummary]) -> None:
    conn, _ = loaded
    sql = (
        "select status::text, device_type::text, manufacturer_id, model_id, hardware_version,"
        " firmware_version, smets_chts_version, gbcs_version, image_hash, cpl_version"
        " from cpl_entries where number = $1"
    )
    assert tuple(await conn.fetchrow(sql, 1)) == (
        "CURRENT", "CHF", "106C", "4331", "00AC", "124074DA", "CHTS V1.0", "GBCS Version 1.0",
        "137ED5BC81A21F6D2187BC380381AEA7705BF65D3E4DAEA28EFD44113079D5E9",
        "Version 2.051 Issued on 21-09-2022",
    )  # fmt: skip
    assert tuple(await conn.fetchrow(sql, 23)) == (
        "REMOVED", "GSME", "1063", "4772", "0101", "03030236", "SMETS V2.0", "GBCS Version 1.0",
        "DDF62A640765028BA5C8412F864EF09D6D0508A90849017D0232F663460200A5",
        "Version 2.051 Issued on 21-09-2022",
    )  # fmt: skip
    assert await conn.fetchval("select name from manufacturers where manufacturer_id = '106C'") == (
        "Example Hub Makers Ltd"
    )


async def test_statuses_carry_their_columns(loaded: tuple[asyncpg.Connection, DemoSummary]) -> None:
    conn, _ = loaded
    bad = await _count(
        conn,
        "select count(*) from firmware_releases where"
        " (status = 'PUBLISHED' and (cpl_entry_number is null or published_by is null))"
        " or (status = 'SUBMITTED' and (cpl_entry_number is not null or published_at is not null))"
        " or (status = 'WITHDRAWN' and (withdrawn_by is null or withdrawn_reason is null))"
        " or (status in ('SUBMITTED', 'DRAFT') and exists (select 1 from cpl_entries e where"
        "  (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version) ="
        "  (firmware_releases.manufacturer_id, firmware_releases.model_id,"
        "   firmware_releases.hardware_version, firmware_releases.firmware_version)))",
    )
    assert bad == 0
    orphan_edges = await _count(
        conn,
        "select count(*) from release_upgradable_from u join firmware_releases r on r.id = u.release_id"
        " where not exists (select 1 from cpl_entries e where e.manufacturer_id = r.manufacturer_id"
        " and e.model_id = r.model_id and e.hardware_version = r.hardware_version"
        " and e.firmware_version = u.from_firmware_version)",
    )
    assert orphan_edges == 0


async def _graph(
    conn: asyncpg.Connection,
) -> tuple[dict[Lineage, list[str]], dict[Lineage, dict[str, set[str]]]]:
    """Per model+hardware: firmware versions oldest first, and the upgrade edges from -> {to}."""
    versions: dict[Lineage, list[str]] = defaultdict(list)
    for r in await conn.fetch(
        "select manufacturer_id, model_id, hardware_version, firmware_version from cpl_entries"
        " where status = 'CURRENT' order by listed_on, number"
    ):
        versions[(r[0], r[1], r[2])].append(r[3])
    edges: dict[Lineage, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in await conn.fetch(
        "select r.manufacturer_id, r.model_id, r.hardware_version, u.from_firmware_version,"
        " r.firmware_version from release_upgradable_from u join firmware_releases r on r.id = u.release_id"
        " where r.status = 'PUBLISHED'"
    ):
        edges[(r[0], r[1], r[2])][r[3]].add(r[4])
    return versions, edges


def _steps(edges: dict[str, set[str]], start: str, goal: str) -> int | None:
    seen, queue = {start}, deque([(start, 0)])
    while queue:
        node, depth = queue.popleft()
        if node == goal:
            return depth
        for nxt in edges.get(node, set()) - seen:
            seen.add(nxt)
            queue.append((nxt, depth + 1))
    return None


async def test_upgrade_graph_has_the_interesting_shapes(
    loaded: tuple[asyncpg.Connection, DemoSummary],
) -> None:
    conn, _ = loaded
    versions, edges = await _graph(conn)
    steps = [_steps(edges[key], fws[0], fws[-1]) for key, fws in versions.items() if len(fws) >= 3]
    assert any(s is not None and s >= 2 for s in steps)
    assert any(s is None for s in steps)
    hub = edges[("106C", "4331", "00AC")]
    assert _steps(hub, "124074DA", "12610010") == 3
    assert _steps(edges[("A0E1", "E470", "0102")], "01000200", "01020100") is None
    assert _steps(edges[("1063", "4772", "0101")], "03030236", "03050104") == 2


async def test_showcase_identities_exist(loaded: tuple[asyncpg.Connection, DemoSummary]) -> None:
    conn, _ = loaded
    for identity in SHOWCASE.values():
        found = await conn.fetchval(
            "select count(*) from cpl_entries where (manufacturer_id, model_id, hardware_version,"
            " firmware_version) = ($1, $2, $3, $4)",
            *identity,
        )
        assert found == 1, identity


async def test_demo_identities_are_distinct(loaded: tuple[asyncpg.Connection, DemoSummary]) -> None:
    conn, _ = loaded
    identities = await demo_identities(conn, 500)
    assert len(identities) == len(set(identities)) == 500
    assert len({i[0] for i in identities}) >= 15


async def test_load_is_deterministic(db_url: str, pg_server: DatabaseHandle, template_db: str) -> None:
    other = await fresh_database(pg_server.url, template_db)
    sums = []
    for url in (db_url, other):
        conn = await asyncpg.connect(url)
        try:
            await load_demo_data(conn)
            sums.append(await _checksum(conn))
        finally:
            await conn.close()
    assert sums[0] == sums[1]


async def test_loading_twice_raises_and_leaves_data_alone(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        assert await database_is_empty(conn)
        steps: list[tuple[str, int, int]] = []
        await load_demo_data(conn, progress=lambda *a: steps.append(a))
        assert steps[-1] == ("audit_events", 7, 7)
        assert not await database_is_empty(conn)
        before = await _checksum(conn)
        with pytest.raises(DatabaseNotEmptyError):
            await load_demo_data(conn)
        assert await _checksum(conn) == before
    finally:
        await conn.close()


async def test_scale_ten_loads_ten_times_as_much(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        started = time.perf_counter()
        summary = await load_demo_data(conn, scale=10)
        print(f"\ndemo scale 10 loaded in {time.perf_counter() - started:.2f}s: {summary}")
        assert summary.manufacturers == 200
        assert 25_000 <= summary.cpl_entries <= 36_000
        assert await _count(conn, "select count(*) from firmware_releases") == summary.releases
    finally:
        await conn.close()
