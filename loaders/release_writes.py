"""SQL that writes firmware releases: submission, withdrawal, the per-model lock and publish notices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import rows
from loaders.db import Db
from loaders.releases import FIRST_REVISION, SELECT
from loaders.vocabulary import CplStatus, ReleaseStatus

# Every gateway replica LISTENs here; the payload is the release id.
PUBLISHED_CHANNEL = "fir_release_published"


@dataclass(frozen=True, slots=True)
class NewRelease:
    """A validated submission, as the insert needs it: always SUBMITTED, published by `publish`."""

    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    release_date: dt.date | None
    release_notes: str | None
    urgency: str | None
    advisories: tuple[str, ...]
    idempotency_key: str | None
    actor: str
    organisation: str | None


# Held shared by every writer of releases, exclusively by every change of the CPL's listings.
_LISTINGS_LOCK = "hashtext('fir-listings')"


async def lock_model(db: Db, manufacturer_id: str, model_id: str, hardware_version: str) -> None:
    """Serialise writers of one model and hardware version until commit; take it before locking
    any of their rows.

    Upgrade-graph cycle checks and identity checks read several rows; two concurrent writers of
    the same model could each pass them alone. The listings lock is taken first, shared: a CPL
    listing (lock_listings) waits for the release writes under way and they for it, so a
    submission and the listing that would publish it never miss each other, however many models
    an import lists.
    """
    await db.execute(
        f"select pg_advisory_xact_lock_shared({_LISTINGS_LOCK}),"
        " pg_advisory_xact_lock(hashtext('fir-model:' || $1 || $2 || $3))",
        manufacturer_id,
        model_id,
        hardware_version,
    )


async def lock_listings(db: Db) -> None:
    """Until commit, no release is submitted or amended: a CPL import, listCplEntry or removal
    changes which releases the CPL lists (one lock, where one per model listed could exhaust
    PostgreSQL's lock table on a whole CPL). Take it before any model or row lock."""
    await db.execute(f"select pg_advisory_xact_lock({_LISTINGS_LOCK})")


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
        f" = ($1, $2, $3, $4) and r.status <> '{ReleaseStatus.WITHDRAWN}'",
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
        f" and r.status <> '{ReleaseStatus.WITHDRAWN}'",
        manufacturer_id,
        model_id,
        hardware_version,
    )
    return [(r["from_firmware_version"], r["firmware_version"]) for r in found]


async def insert_release(db: Db, new: NewRelease) -> int | None:
    """The new release's id, or None when a unique index (identity, idempotency key) already holds one."""
    return await db.fetchval(  # type: ignore[no-any-return]
        "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
        " image_hash, status, release_date, release_notes, urgency, advisories, idempotency_key,"
        " submitted_by, submitted_org)"
        f" values ($1, $2, $3, $4, $5, '{ReleaseStatus.SUBMITTED}', $6, $7, $8::urgency, $9::text[], $10,"
        " $11, $12) on conflict do nothing returning id",
        new.manufacturer_id,
        new.model_id,
        new.hardware_version,
        new.firmware_version,
        new.image_hash,
        new.release_date,
        new.release_notes,
        new.urgency,
        list(new.advisories),
        new.idempotency_key,
        new.actor,
        new.organisation,
    )


async def releases_by_ids(db: Db, release_ids: Sequence[int]) -> list[rows.ReleaseRow]:
    """The releases in id order (inside a write: what the change just made)."""
    found = await db.fetch(f"{SELECT} where r.id = any($1::bigint[]) order by r.id", list(release_ids))
    return [rows.release(r) for r in found]


async def matching_submissions(db: Db, numbers: Sequence[int] | None) -> list[tuple[int, int]]:
    """(release id, entry number) of SUBMITTED releases whose identity and hash a Current entry lists.

    `numbers` limits the entries considered (None: every entry). The releases stay locked until
    commit, so a concurrent withdrawal waits for the publication.
    """
    found = await db.fetch(
        "select r.id, e.number from firmware_releases r join cpl_entries e"
        " on (e.manufacturer_id, e.model_id, e.hardware_version, e.firmware_version, e.image_hash)"
        " = (r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash)"
        f" where r.status = '{ReleaseStatus.SUBMITTED}' and e.status = '{CplStatus.CURRENT}'"
        " and ($1::int[] is null or e.number = any($1::int[]))"
        " order by r.id for update of r",
        None if numbers is None else list(numbers),
    )
    return [(r["id"], r["number"]) for r in found]


async def publish(db: Db, pairs: Sequence[tuple[int, int]], *, actor: str) -> None:
    """Publish each (release id, entry number) in one statement."""
    await db.execute(
        f"update firmware_releases r set status = '{ReleaseStatus.PUBLISHED}', cpl_entry_number = u.number,"
        " published_at = now(), published_by = $3, updated_at = now()"
        " from unnest($1::bigint[], $2::int[]) as u(id, number) where r.id = u.id",
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        actor,
    )


async def insert_upgradable_from(db: Db, release_id: int, versions: Sequence[str]) -> None:
    if versions:
        await db.execute(
            "insert into release_upgradable_from (release_id, from_firmware_version)"
            " select $1, v from unnest($2::text[]) v",
            release_id,
            list(versions),
        )


@dataclass(frozen=True, slots=True)
class Amendment:
    """A release's amendable facts as they become."""

    release_notes: str | None
    urgency: str | None
    advisories: tuple[str, ...]
    upgradable_from: tuple[str, ...]


async def amend(db: Db, release_id: int, new: Amendment, *, actor: str, reason: str | None) -> None:
    """Store the release as it was (revision 1) if this is its first amendment, then the new revision."""
    await db.execute(
        "insert into release_revisions select release_id, revision, release_notes, urgency::urgency,"
        f" advisories, upgradable_from, revised_at, revised_by, reason from ({FIRST_REVISION}) first",
        [release_id],
    )
    await db.execute(
        "insert into release_revisions (release_id, revision, release_notes, urgency, advisories,"
        " upgradable_from, revised_at, revised_by, reason)"
        " select $1, max(revision) + 1, $2, $3::urgency, $4::text[], $5::text[], now(), $6, $7"
        " from release_revisions where release_id = $1",
        release_id,
        new.release_notes,
        new.urgency,
        list(new.advisories),
        list(new.upgradable_from),
        actor,
        reason,
    )
    await db.execute(
        "update firmware_releases set release_notes = $2, urgency = $3::urgency, advisories = $4::text[],"
        " updated_at = now() where id = $1",
        release_id,
        new.release_notes,
        new.urgency,
        list(new.advisories),
    )
    # the revisions keep the earlier edges: the live table holds the newest revision's only
    await db.execute("delete from release_upgradable_from where release_id = $1", release_id)
    await insert_upgradable_from(db, release_id, new.upgradable_from)


async def withdraw(db: Db, release_id: int, *, actor: str, reason: str) -> None:
    await db.execute(
        f"update firmware_releases set status = '{ReleaseStatus.WITHDRAWN}', withdrawn_at = now(), withdrawn_by = $2,"
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
