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
