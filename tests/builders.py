"""Hand-built datasets for tests: small, explicit, and inserted with plain SQL."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from gateway.context import build_context
from gateway.resources import Resources
from gateway.settings import load_settings
from resolvers.context import Context
from resolvers.principal import ADMIN, PUBLISH, READ, Principal

SUPPLIER = Principal(subject="supplier-1", scopes=frozenset({READ}), organisation="Supplier One")
SECAS = Principal(subject="secas-1", scopes=frozenset({ADMIN}), organisation="SECAS")


def publisher(*manufacturers: str) -> Principal:
    return Principal(
        subject=f"maker-{'-'.join(manufacturers)}",
        scopes=frozenset({PUBLISH}),
        manufacturers=frozenset(manufacturers),
        organisation="Maker",
    )


def image_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest().upper()


def identity_input(firmware: str) -> dict[str, str]:
    """A DeviceIdentityInput for 106C/4331/00AC at `firmware`, as the caller typed it."""
    return {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": firmware,
    }


def submission_input(version: str) -> dict[str, Any]:
    """A SubmitFirmwareReleaseInput for 106C/4331/00AC at `version`, its hash derived from it."""
    return {
        **identity_input(version),
        "imageHash": image_hash(version),
        "releaseDate": "2026-01-01",
        "releaseNotes": "Notes.",
        "urgency": "LOW",
    }


def listing_input(number: int, version: str) -> dict[str, Any]:
    """A CplEntryInput listing `version` of 106C/4331/00AC as Current entry `number`, same hash."""
    return {
        "number": number,
        "status": "CURRENT",
        "deviceType": "CHF",
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": version,
        "imageHash": image_hash(version),
    }


@contextlib.asynccontextmanager
async def building(url: str) -> AsyncIterator[Builder]:
    """A Builder on a connection of its own to the database at `url`, closed after."""
    conn = await asyncpg.connect(url)
    try:
        yield Builder(conn)
    finally:
        await conn.close()


class Builder:
    """Inserts rows for one model and hardware version with terse calls."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.next_number = 1000

    async def manufacturer(self, mid: str, name: str = "Example Meters Ltd") -> None:
        await self.conn.execute(
            "insert into manufacturers (manufacturer_id, name, website) values ($1, $2, $3)"
            " on conflict do nothing",
            mid,
            name,
            f"https://{mid.lower()}.example.com",
        )
        await self.conn.execute(
            "insert into contacts (manufacturer_id, role, name, email, phone, position)"
            " values ($1, 'FIRMWARE', 'Firmware Desk', $2, '+44 20 7946 0000', 0)",
            mid,
            f"firmware@{mid.lower()}.example.com",
        )

    async def model(self, mid: str, model: str, device_type: str = "ESME") -> None:
        await self.conn.execute(
            "insert into device_models values ($1, $2, $3, $4) on conflict do nothing",
            mid,
            model,
            f"Model {model}",
            device_type,
        )

    async def entry(
        self, mid: str, model: str, hw: str, fw: str, *, status: str = "CURRENT", number: int | None = None
    ) -> int:
        if number is None:
            self.next_number += 1
            number = self.next_number
        await self.conn.execute(
            "insert into cpl_entries (number, status, manufacturer_id, model_id, hardware_version,"
            " firmware_version, device_type, image_hash, removed_on)"
            " select $1, $2::cpl_status, $3::text, $4::text, $5, $6, m.device_type, $7,"
            " case when $2 = 'REMOVED' then date '2024-01-01' end"
            " from device_models m where m.manufacturer_id = $3::text and m.model_id = $4::text",
            number,
            status,
            mid,
            model,
            hw,
            fw,
            image_hash(f"{mid}{model}{hw}{fw}"),
        )
        return number

    async def release(
        self,
        mid: str,
        model: str,
        hw: str,
        fw: str,
        *,
        date: str,
        upgradable_from: tuple[str, ...] = (),
        status: str = "PUBLISHED",
        cpl_status: str | None = "CURRENT",
        number: int | None = None,
    ) -> int:
        if cpl_status:
            number = await self.entry(mid, model, hw, fw, status=cpl_status, number=number)
        release_id: int = await self.conn.fetchval(
            "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
            " image_hash, status, cpl_entry_number, release_date, release_notes, urgency, published_at,"
            " published_by, withdrawn_at, withdrawn_reason)"
            " values ($1, $2, $3, $4, $5, $6::release_status, $7, $8::text::date, 'Notes', 'MEDIUM',"
            " case when $6 in ('PUBLISHED', 'WITHDRAWN') then now() end, 'maker',"
            " case when $6 = 'WITHDRAWN' then now() end, case when $6 = 'WITHDRAWN' then 'test' end)"
            " returning id",
            mid,
            model,
            hw,
            fw,
            image_hash(f"{mid}{model}{hw}{fw}"),
            status,
            number if status in ("PUBLISHED", "WITHDRAWN") else None,
            date,
        )
        for source in upgradable_from:
            await self.conn.execute("insert into release_upgradable_from values ($1, $2)", release_id, source)
        return release_id

    async def chain(self, *versions: str) -> list[int]:
        """Manufacturer 106C, its CHF model 4331 and, at hardware 00AC, a published release of each
        version, dated a year apart from 2020-01-01, each upgradable from the one before."""
        await self.manufacturer("106C")
        await self.model("106C", "4331", "CHF")
        return [
            await self.release(
                "106C", "4331", "00AC", fw, date=f"{2020 + i}-01-01", upgradable_from=versions[i - 1 : i]
            )
            for i, fw in enumerate(versions)
        ]


def context_for(pool: asyncpg.Pool, principal: Principal) -> Context:
    return build_context(Resources(settings=load_settings(env_file=None), pool=pool), principal)


async def execute(schema: Any, pool: asyncpg.Pool, query: str, principal: Principal, **variables: Any) -> Any:
    ctx = context_for(pool, principal)
    result = await schema.execute(query, variable_values=variables or None, context_value=ctx)
    result.context = ctx
    return result


def error_of(result: Any) -> dict[str, Any]:
    """The extensions of the one error of a result that has no data (a mutation refused)."""
    assert result.data is None, result.data
    [error] = result.errors
    return dict(error.extensions)


async def audit_rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every audit event, oldest first."""
    async with pool.acquire() as conn:
        return list(await conn.fetch("select * from audit_events order by id"))
