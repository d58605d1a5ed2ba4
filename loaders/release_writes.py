"""SQL that writes firmware releases: submission, withdrawal, the per-model lock and publish notices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import rows
from loaders.db import Db
from loaders.releases import SELECT

# Every gateway replica LISTENs here; the payload is the release id.
PUBLISHED_CHANNEL = "fir_release_published"


@dataclass(frozen=True, slots=True)
class NewRelease:
    """A validated submission, as the insert needs it."""

    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    status: str
    cpl_entry_number: int | None
    release_date: dt.date | None
    release_notes: str | None
    urgency: str | None
    advisories: tuple[str, ...]
    idempotency_key: str | None
    actor: str
    organisation: str | None


async def lock_model(db: Db, manufacturer_id: str, model_id: str, hardware_version: str) -> None:
    """Serialise writers of one model and hardware version until commit.

    Upgrade-graph cycle checks and identity checks read several rows; two concurrent writers of
    the same model could each pass them alone. Listing a CPL entry takes the same lock, so a
    submission and the listing that would publish it never miss each other.
    """
    await db.execute(
        "select pg_advisory_xact_lock(hashtext('fir-model:' || $1 || $2 || $3))",
        manufacturer_id,
        model_id,
        hardware_version,
    )


async def release_row(db: Db, release_id: int) -> rows.ReleaseRow | None:
    found = await db.fetchrow(f"{SELECT} where r.id = $1", release_id)
    return rows.release(found) if found else None


async def lock_release(db: Db, release_id: int) -> rows.ReleaseRow | None:
    """The release, locked against concurrent withdrawal or publication."""
    if await db.fetchval("select id from firmware_releases where id = $1 for update", release_id) is None:
        return None
    return await release_row(db, release_id)


async def release_by_idempotency_key(db: Db, manufacturer_id: str, key: str) -> rows.ReleaseRow | None:
    found = await db.fetchrow(
        f"{SELECT} where r.manufacturer_id = $1 and r.idempotency_key = $2", manufacturer_id, key
    )
    return rows.release(found) if found else None


async def live_release(
    db: Db, manufacturer_id: str, model_id: str, hardware_version: str, firmware_version: str
) -> rows.ReleaseRow | None:
    """The one release of an identity that is not withdrawn (a partial unique index keeps it one)."""
    found = await db.fetchrow(
        f"{SELECT} where (r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version)"
        " = ($1, $2, $3, $4) and r.status <> 'WITHDRAWN'",
        manufacturer_id,
        model_id,
        hardware_version,
        firmware_version,
    )
    return rows.release(found) if found else None


async def model_exists(db: Db, manufacturer_id: str, model_id: str) -> bool:
    return bool(
        await db.fetchval(
            "select exists (select from device_models where manufacturer_id = $1 and model_id = $2)",
            manufacturer_id,
            model_id,
        )
    )


async def known_versions(
    db: Db, manufacturer_id: str, model_id: str, hardware_version: str
) -> dict[str, int | None]:
    """Firmware versions of one model and hardware that the CPL lists or the FIR records, each with
    its CPL entry number (None: recorded in the FIR only, not listed yet)."""
    found = await db.fetch(
        "select firmware_version, number from cpl_entries"
        " where (manufacturer_id, model_id, hardware_version) = ($1, $2, $3)"
        " union select firmware_version, null from firmware_releases"
        " where (manufacturer_id, model_id, hardware_version) = ($1, $2, $3)",
        manufacturer_id,
        model_id,
        hardware_version,
    )
    known: dict[str, int | None] = {r["firmware_version"]: None for r in found}
    known.update((r["firmware_version"], r["number"]) for r in found if r["number"] is not None)
    return known


async def upgrade_edges(
    db: Db, manufacturer_id: str, model_id: str, hardware_version: str
) -> list[tuple[str, str]]:
    """(from, to) firmware versions along the live releases' upgradable-from edges of one model."""
    found = await db.fetch(
        "select u.from_firmware_version, r.firmware_version from release_upgradable_from u"
        " join firmware_releases r on r.id = u.release_id"
        " where (r.manufacturer_id, r.model_id, r.hardware_version) = ($1, $2, $3)"
        " and r.status <> 'WITHDRAWN'",
        manufacturer_id,
        model_id,
        hardware_version,
    )
    return [(r["from_firmware_version"], r["firmware_version"]) for r in found]


async def insert_release(db: Db, new: NewRelease) -> int | None:
    """The new release's id, or None when a unique index (identity, idempotency key) already holds one."""
    published = new.status == "PUBLISHED"
    return await db.fetchval(  # type: ignore[no-any-return]
        "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
        " image_hash, status, cpl_entry_number, release_date, release_notes, urgency, advisories,"
        " idempotency_key, submitted_by, submitted_org, published_at, published_by)"
        " values ($1, $2, $3, $4, $5, $6::release_status, $7, $8, $9, $10::urgency, $11::text[], $12,"
        " $13, $14, case when $15 then now() end, case when $15 then $13 end)"
        " on conflict do nothing returning id",
        new.manufacturer_id,
        new.model_id,
        new.hardware_version,
        new.firmware_version,
        new.image_hash,
        new.status,
        new.cpl_entry_number,
        new.release_date,
        new.release_notes,
        new.urgency,
        list(new.advisories),
        new.idempotency_key,
        new.actor,
        new.organisation,
        published,
    )


async def insert_upgradable_from(db: Db, release_id: int, versions: Sequence[str]) -> None:
    if versions:
        await db.execute(
            "insert into release_upgradable_from (release_id, from_firmware_version)"
            " select $1, v from unnest($2::text[]) v",
            release_id,
            list(versions),
        )


async def withdraw(db: Db, release_id: int, *, actor: str, reason: str) -> None:
    await db.execute(
        "update firmware_releases set status = 'WITHDRAWN', withdrawn_at = now(), withdrawn_by = $2,"
        " withdrawn_reason = $3, updated_at = now() where id = $1",
        release_id,
        actor,
        reason,
    )


async def notify_published(db: Db, release_ids: Sequence[int]) -> None:
    """Announce publications; PostgreSQL delivers the notices only if the transaction commits."""
    if release_ids:
        await db.execute(
            f"select pg_notify('{PUBLISHED_CHANNEL}', id::text) from unnest($1::bigint[]) id",
            list(release_ids),
        )
