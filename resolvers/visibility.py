"""What a caller may see of the FIR: the row-level rules (whose record is it?) every access rule applies."""

from __future__ import annotations

from loaders.rows import ReleaseRow
from resolvers.context import Context
from resolvers.principal import Principal


def can_see_release(principal: Principal, release: ReleaseRow) -> bool:
    """Published records, withdrawn or not, are the FIR (fir:read); drafts, submissions and submissions
    withdrawn unpublished are their owner's."""
    if principal.is_admin:
        return True
    if release.is_public:
        return can_see_fir_of(principal, release.manufacturer_id)
    return release.manufacturer_id in principal.publishes_for


def visible_releases(ctx: Context, releases: list[ReleaseRow]) -> list[ReleaseRow]:
    """`releases` filtered by can_see_release, once per request and list: a model's releases are
    filtered once, not again for each of its releases that asks for its siblings."""
    key = (visible_releases, id(releases))
    found = ctx.memo.get(key)
    if found is not None and found[0] is releases:  # the memo holds the list: its id is not reused
        return found[1]  # type: ignore[no-any-return]
    visible = [r for r in releases if can_see_release(ctx.principal, r)]
    ctx.memo[key] = (releases, visible)
    return visible


def can_see_fir_of(principal: Principal, manufacturer_id: str | None) -> bool:
    """fir:read and SECAS see every manufacturer's FIR records; a publisher sees its own only.

    `None`: the manufacturer is not known yet (a root field): whoever may see some FIR records passes,
    and the rows are filtered one by one.
    """
    if principal.can_read:
        return True
    return is_owner_or_secas(principal, manufacturer_id)


def is_owner_or_secas(principal: Principal, manufacturer_id: str | None) -> bool:
    """SECAS, or a publisher bound to this manufacturer (`None`: to any manufacturer)."""
    if principal.is_admin:
        return True
    if manufacturer_id is None:
        return bool(principal.publishes_for)
    return manufacturer_id in principal.publishes_for
