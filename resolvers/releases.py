"""Read rules for firmware releases: lookups filtered by what the caller may see."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from dataclasses import replace

from loaders.batching import NOT_LOADED
from loaders.rows import CplEntryRow, ReleaseRow, RevisionRow
from loaders.vocabulary import ReleaseStatus
from resolvers import paths
from resolvers.context import Context
from resolvers.pagination import INT64_MAX, parse_decimal
from resolvers.visibility import can_see_release, is_owner_or_secas, visible_releases


def parse_release_id(value: str) -> int | None:
    """Release ids are bigint serials; anything else names no release."""
    return parse_decimal(value, INT64_MAX)


async def release(ctx: Context, release_id: str) -> ReleaseRow | None:
    """None both when absent and when hidden, so a caller cannot probe for others' drafts."""
    key = parse_release_id(release_id)
    if key is None:
        return None
    row = await ctx.loaders.release_by_id.load(key)
    return row if row is not None and can_see_release(ctx.principal, row) else None


async def release_of_entry(ctx: Context, entry: CplEntryRow) -> ReleaseRow | None:
    """The FIR record for a CPL entry: its live release with the same identity and hash."""
    found = await ctx.loaders.releases_by_identity.load(
        (entry.manufacturer_id, entry.model_id, entry.hardware_version, entry.firmware_version)
    )
    visible = [r for r in found if can_see_release(ctx.principal, r) and r.image_hash == entry.image_hash]
    live = [r for r in visible if r.status != ReleaseStatus.WITHDRAWN]
    return (live or visible)[-1] if visible else None


async def _siblings(ctx: Context, release: ReleaseRow) -> list[ReleaseRow]:
    return visible_releases(ctx, await ctx.loaders.releases_by_model_hw.load(release.model_key))


async def upgradable_from(ctx: Context, release: ReleaseRow) -> list[ReleaseRow]:
    """Published releases whose firmware may upgrade to this one, oldest first."""
    sources = set(release.upgradable_from)
    return paths.lineage(r for r in await _siblings(ctx, release) if r.firmware_version in sources)


async def upgrades_to(ctx: Context, release: ReleaseRow) -> list[ReleaseRow]:
    """Published releases that name this release's firmware as a source, oldest first."""
    return paths.lineage(
        r for r in await _siblings(ctx, release) if release.firmware_version in r.upgradable_from
    )


def upgradable_from_versions(ctx: Context, release: ReleaseRow) -> list[str] | Awaitable[list[str]]:
    """The firmware versions a release names as its sources, those the caller may see: a version with a
    release visible to it, or one on the (public) CPL for the same model and hardware version.

    Answered at once, without awaiting, from rows the request already loaded (a device query
    prefetches the model's releases and CPL entries); otherwise the awaitable that loads them."""
    sources = release.upgradable_from
    if ctx.principal.is_admin or not sources:
        return list(sources)
    loaders = ctx.loaders
    siblings = loaders.releases_by_model_hw.ready(release.model_key)
    if siblings is NOT_LOADED:
        return _upgradable_from_versions(ctx, release)
    released = _versions(ctx, visible_releases(ctx, siblings))
    if all(v in released for v in sources):
        return list(sources)
    on_cpl = loaders.cpl_versions_by_model_hw.ready(release.model_key)
    if on_cpl is NOT_LOADED:
        return _upgradable_from_versions(ctx, release)
    return [v for v in sources if v in released or v in on_cpl]


async def _upgradable_from_versions(ctx: Context, release: ReleaseRow) -> list[str]:
    known = await _visible_versions(ctx, release)
    return [v for v in release.upgradable_from if known is None or v in known]


def _versions(ctx: Context, releases: list[ReleaseRow]) -> frozenset[str]:
    """The firmware versions of a list of (visible) releases, once per request and list."""
    key = (_versions, id(releases))
    found = ctx.memo.get(key)
    if found is not None and found[0] is releases:  # the memo holds the list: its id is not reused
        return found[1]  # type: ignore[no-any-return]
    versions = frozenset(r.firmware_version for r in releases)
    ctx.memo[key] = (releases, versions)
    return versions


async def revisions(ctx: Context, release: ReleaseRow) -> list[RevisionRow]:
    """The revisions, oldest first, their upgrade sources filtered as upgradable_from_versions is.

    Its owner's publisher and SECAS see every one; anyone else, from the revision in force when it
    was published: what a release said while it was a submission (notes and advisories amended
    before publication) was never the FIR's, as the change feed keeps such amendments private."""
    found, known = await asyncio.gather(
        ctx.loaders.revisions_by_release.load(release.id), _visible_versions(ctx, release)
    )
    if not is_owner_or_secas(ctx.principal, release.manufacturer_id):
        found = since_publication(found, release.published_at)
    if known is None:
        return found
    return [replace(r, upgradable_from=tuple(v for v in r.upgradable_from if v in known)) for r in found]


def since_publication(found: list[RevisionRow], published_at: dt.datetime | None) -> list[RevisionRow]:
    """The revision in force at `published_at` and those after it (none for a release never published)."""
    if published_at is None:
        return []
    before = [n for n, r in enumerate(found) if r.revised_at <= published_at]
    return found[before[-1] if before else 0 :]


async def _visible_versions(ctx: Context, release: ReleaseRow) -> set[str] | None:
    """Versions of the release's model and hardware the caller may see (None: every one, SECAS)."""
    if ctx.principal.is_admin:
        return None
    siblings, listed = await asyncio.gather(
        _siblings(ctx, release), ctx.loaders.cpl_versions_by_model_hw.load(release.model_key)
    )
    return {r.firmware_version for r in siblings} | listed
