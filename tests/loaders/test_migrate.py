"""Migrations: ordered, recorded, idempotent; constraints hold in the database itself."""

from __future__ import annotations

import asyncpg
import pytest

from loaders.migrate import available, migrate


async def test_migrate_is_idempotent(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        assert await migrate(conn) == []
        versions = [r["version"] for r in await conn.fetch("select version from fir_schema_migrations")]
        assert versions == [m.version for m in available()]
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [("hardware_version", "00ac"), ("firmware_version", "124074D"), ("image_hash", "AB" * 31)],
)
async def test_hex_formats_are_checked(db_url: str, column: str, value: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("insert into manufacturers values ('106C', 'Example Meters Ltd')")
        await conn.execute("insert into device_models values ('106C', '4331', 'Hub', 'CHF')")
        row = {
            "hardware_version": "00AC",
            "firmware_version": "124074DA",
            "image_hash": "AB" * 32,
        }
        row[column] = value
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "insert into cpl_entries (number, manufacturer_id, model_id, hardware_version,"
                " firmware_version, device_type, image_hash) values (1, '106C', '4331', $1, $2, 'CHF', $3)",
                row["hardware_version"],
                row["firmware_version"],
                row["image_hash"],
            )
    finally:
        await conn.close()


async def test_one_cpl_entry_per_identity_and_data_version_moves(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        before = await conn.fetchval("select version from data_version")
        await conn.execute("insert into manufacturers values ('106C', 'Example Meters Ltd')")
        await conn.execute("insert into device_models values ('106C', '4331', 'Hub', 'CHF')")
        insert = (
            "insert into cpl_entries (number, manufacturer_id, model_id, hardware_version,"
            " firmware_version, device_type, image_hash) values ($1, '106C', '4331', '00AC', '124074DA', 'CHF', $2)"
        )
        await conn.execute(insert, 1, "AB" * 32)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, 2, "CD" * 32)
        assert await conn.fetchval("select version from data_version") > before
    finally:
        await conn.close()


async def test_0013_dates_the_statements_of_entries_from_before(db_url: str) -> None:
    """The backfill of stated_on and current_on over entries that predate them: the newest of the
    listing, the removal and the issue the Version names; Current as of then if Current."""
    [m] = [m for m in available() if m.version == "0013_cpl_entry_statements"]
    backfill = m.sql[m.sql.index("update cpl_entries") :]
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("insert into manufacturers values ('106C', 'Example Meters Ltd')")
        await conn.execute("insert into device_models values ('106C', '4331', 'Hub', 'CHF')")
        await conn.execute(
            "insert into cpl_issues (number, title, issued_on) values ('2.053', 'Version 2.053', '2022-10-19')"
        )
        await conn.execute(
            "insert into cpl_entries (number, status, manufacturer_id, model_id, hardware_version,"
            " firmware_version, device_type, image_hash, cpl_version, listed_on, removed_on) values"
            " (1, 'CURRENT', '106C', '4331', '00AC', '00000001', 'CHF', $1, 'Version 2.053', '2022-09-21', null),"
            " (2, 'REMOVED', '106C', '4331', '00AC', '00000002', 'CHF', $1, null, '2022-09-21', '2022-10-05'),"
            " (3, 'CURRENT', '106C', '4331', '00AC', '00000003', 'CHF', $1, null, null, null)",
            "AB" * 32,
        )
        await conn.execute(backfill)
        found = await conn.fetch(
            "select number, stated_on::text, current_on::text from cpl_entries order by 1"
        )
        assert [tuple(r) for r in found] == [
            (1, "2022-10-19", "2022-10-19"),
            (2, "2022-10-05", None),
            (3, None, None),
        ]
    finally:
        await conn.close()


# Tables an insert into need not move the data version, and why; into any other table it must (a
# trigger calling bump_data_version), or the response cache and read replicas serve answers from before it.
UNVERSIONED = {
    "change_events": "inserted in the transaction of the write it records (a prune, a delete, bumps)",
    "data_version": "the version itself",
    "fir_schema_migrations": "the migrations run",
    "change_feed_counter": "moved in the transaction of the write whose change event it numbers",
    "tlog_leaves": "appended in the transaction of the write they log; no answer reads them unsigned",
    "tlog_nodes": "appended with the leaves",
    "fleet_checks": "jobs read through /fleet-checks, never through the cache",
    "fleet_check_chunks": "the jobs' spooled rows",
    "trusted_documents": "the cache resolves a documentId against the registry before it looks",
}


async def test_every_table_answers_read_moves_the_data_version(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            """select c.relname,
                      bool_or(p.proname = 'bump_data_version' and t.tgtype & 4 = 4) as on_insert
               from pg_class c
               join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
               left join pg_trigger t on t.tgrelid = c.oid and not t.tgisinternal
               left join pg_proc p on p.oid = t.tgfoid
               where c.relkind in ('r', 'p')
               group by c.relname"""
        )
    finally:
        await conn.close()
    tables = {r["relname"]: bool(r["on_insert"]) for r in rows}
    assert set(UNVERSIONED) <= set(tables), "a table named above no longer exists"
    unversioned = sorted(name for name, bumps in tables.items() if not bumps and name not in UNVERSIONED)
    assert unversioned == [], "inserts into these tables leave the data version (and the cache) as it was"
    assert tables["tlog_checkpoints"]  # a signed checkpoint fills in cached `proof: null`s
