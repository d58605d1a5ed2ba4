"""What a caller may see of the FIR: the SPEC access table applied to release records."""

from __future__ import annotations

from loaders.rows import ReleaseRow
from resolvers.principal import Principal

PUBLIC_STATUSES = frozenset({"PUBLISHED", "WITHDRAWN"})


def can_see_release(principal: Principal, release: ReleaseRow) -> bool:
    """Published and withdrawn records are the FIR (fir:read); drafts and submissions are their owner's."""
    if principal.is_admin:
        return True
    if release.status in PUBLIC_STATUSES:
        return principal.can_read
    return release.manufacturer_id in principal.publishes_for


def can_see_contacts(principal: Principal) -> bool:
    return principal.can_read
