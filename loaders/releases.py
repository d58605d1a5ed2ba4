"""SQL for firmware releases and their upgradable-from edges (reads)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from loaders import rows
from loaders.batching import DbLoader
from loaders.db import Db
from loaders.vocabulary import PUBLIC_RELEASE_SQL

SELECT = (
    "select r.id, r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash,"
    " r.status::text, r.cpl_entry_number, c.status::text as cpl_status, r.release_date, r.release_notes,"
    " r.urgency::text, r.advisories,"
    " coalesce((select array_agg(u.from_firmware_version order by u.from_firmware_version)"
    "   from release_upgradable_from u where u.release_id = r.id), '{}') as upgradable_from,"
    " r.submitted_by, r.submitted_org, r.submitted_at, r.published_at, r.published_by,"
    " r.withdrawn_at, r.withdrawn_reason"
    " from firmware_releases r left join cpl_entries c on c.number = r.cpl_entry_number"
)
# Revision 1 of releases never amended: the release row as submitted (an amendment stores it first).
FIRST_REVISION = (
    "select r.id as release_id, 1 as revision, r.release_notes, r.urgency::text as urgency, r.advisories,"
    " coalesce((select array_agg(u.from_firmware_version order by u.from_firmware_version)"
    "   from release_upgradable_from u where u.release_id = r.id), '{}') as upgradable_from,"
    " r.submitted_at as revised_at, r.submitted_by as revised_by, null::text as reason"
    " from firmware_releases r where r.id = any($1::bigint[])"
    " and not exists (select from release_revisions v where v.release_id = r.id)"
)
ModelHwKey = tuple[str, str, str]
IdentityKey = tuple[str, str, str, str]


class ReleaseByIdLoader(DbLoader[int, rows.ReleaseRow | None]):
    async def batch_load_fn(self, keys: Sequence[int]) -> list[rows.ReleaseRow | None]:
        found = {
            r["id"]: rows.release(r)
            for r in await self.db.fetch_keyed(f"{SELECT} where r.id = any($1::bigint[])", list(keys))
        }
        return [found.get(k) for k in keys]


class ReleasesByModelHwLoader(DbLoader[ModelHwKey, list[rows.ReleaseRow]]):
    """Every release (any status) of a model and hardware version: lineage, latest and paths start here."""

    async def batch_load_fn(self, keys: Sequence[ModelHwKey]) -> list[list[rows.ReleaseRow]]:
        found: dict[ModelHwKey, list[rows.ReleaseRow]] = defaultdict(list)
        for r in await self.db.fetch_keyed(
            f"{SELECT} where (r.manufacturer_id, r.model_id, r.hardware_version) in"
            " (select * from unnest($1::text[], $2::text[], $3::text[]))"
            " order by r.id",
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
        ):
            row = rows.release(r)
            found[row.model_key].append(row)
        return [found.get(k, []) for k in keys]


class ReleasesByIdentityLoader(DbLoader[IdentityKey, list[rows.ReleaseRow]]):
    """The releases (live and withdrawn history) recorded for exactly one identity."""

    async def batch_load_fn(self, keys: Sequence[IdentityKey]) -> list[list[rows.ReleaseRow]]:
        found: dict[IdentityKey, list[rows.ReleaseRow]] = defaultdict(list)
        for r in await self.db.fetch_keyed(
            f"{SELECT} where (r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version) in"
            " (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]))"
            " order by r.id",
            *(list(col) for col in zip(*keys, strict=True)),
        ):
            row = rows.release(r)
            found[row.identity].append(row)
        return [found.get(k, []) for k in keys]


class RevisionsByReleaseLoader(DbLoader[int, list[rows.RevisionRow]]):
    """Every revision of a release, oldest first (one, the release as submitted, until it is amended)."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[rows.RevisionRow]]:
        found: dict[int, list[rows.RevisionRow]] = defaultdict(list)
        for r in await self.db.fetch_keyed(
            "select release_id, revision, release_notes, urgency::text, advisories, upgradable_from,"
            " revised_at, revised_by, reason from release_revisions where release_id = any($1::bigint[])"
            f" union all {FIRST_REVISION} order by release_id, revision",
            list(keys),
        ):
            found[r["release_id"]].append(rows.revision(r))
        return [found.get(k, []) for k in keys]


@dataclass(frozen=True, slots=True)
class ReleaseSearch:
    """What `firmwareReleases` asks for; None means any."""

    manufacturer_id: str | None = None
    model_id: str | None = None
    device_type: str | None = None
    status: str | None = None
    urgency: str | None = None
    advisory: str | None = None
    published_since: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ReleaseReaders:
    """Whose releases a caller may see: the SQL form of resolvers.visibility.can_see_release."""

    everything: bool
    public_fir: bool
    own: frozenset[str]


async def release_page(
    db: Db, *, before_id: int | None, limit: int, who: ReleaseReaders, where: ReleaseSearch
) -> list[rows.ReleaseRow]:
    """Newest first, keyset-paged on id; only rows the caller may see, so a page is full."""
    found = await db.fetch(
        f"{SELECT}"
        " where ($1::bigint is null or r.id < $1)"
        " and ($2 or r.manufacturer_id = any($3::text[])"
        f"   or ($4 and {PUBLIC_RELEASE_SQL}))"
        " and ($5::text is null or r.manufacturer_id = $5)"
        " and ($6::text is null or r.model_id = $6)"
        " and ($7::device_type is null or exists (select from device_models m"
        "   where m.manufacturer_id = r.manufacturer_id and m.model_id = r.model_id and m.device_type = $7))"
        " and ($8::release_status is null or r.status = $8)"
        " and ($9::urgency is null or r.urgency = $9)"
        " and ($10::text is null or r.advisories @> array[$10::text])"
        " and ($11::timestamptz is null or r.published_at >= $11)"
        " order by r.id desc limit $12",
        before_id,
        who.everything,
        sorted(who.own),
        who.public_fir,
        where.manufacturer_id,
        where.model_id,
        where.device_type,
        where.status,
        where.urgency,
        where.advisory,
        where.published_since,
        limit,
    )
    return [rows.release(r) for r in found]
