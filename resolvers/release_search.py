"""Release search: "published since Monday", "every release fixing CVE-…", filtered to what the caller may see."""

from __future__ import annotations

from dataclasses import replace

from loaders import releases as release_sql
from loaders.releases import ReleaseReaders, ReleaseSearch
from loaders.rows import ReleaseRow
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.identity import optional_hex
from resolvers.pagination import Keyset, Page, fetch_page, serial_key
from resolvers.principal import Principal

CURSOR_KIND = "release"
MAX_ADVISORY = 200


def readers_of(principal: Principal) -> ReleaseReaders:
    """SECAS sees every release; fir:read the published FIR; a publisher all of its own, drafts included."""
    return ReleaseReaders(principal.is_admin, principal.can_read, principal.publishes_for)


def checked(where: ReleaseSearch) -> ReleaseSearch:
    """Identifiers are 4 hex digits, normalised as everywhere; an advisory is short text, matched exactly."""
    if where.advisory is not None and not 0 < len(where.advisory) <= MAX_ADVISORY:
        raise BadUserInput(f"advisory must be 1 to {MAX_ADVISORY} characters", field="advisory")
    return replace(
        where,
        manufacturer_id=optional_hex(where.manufacturer_id, 4, "manufacturerId"),
        model_id=optional_hex(where.model_id, 4, "modelId"),
    )


_RELEASES: Keyset[int | None, ReleaseRow] = Keyset(CURSOR_KIND, serial_key, lambda r: str(r.id))


async def search(
    ctx: Context, first: int | None, after: str | None, where: ReleaseSearch
) -> Page[ReleaseRow]:
    """Newest first; one statement, and the rows prime the release loader for the fields below."""
    loaders = ctx.loaders
    return await fetch_page(
        _RELEASES,
        first,
        after,
        ctx.limits.max_page_size,
        lambda position, limit: release_sql.release_page(
            loaders.db, before_id=position, limit=limit, who=readers_of(ctx.principal), where=checked(where)
        ),
        lambda row: loaders.release_by_id.prime(row.id, row),
    )
