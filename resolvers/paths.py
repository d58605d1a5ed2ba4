"""Latest release and upgrade paths (SEC MP231): a directed graph between firmware versions of one model."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable

from loaders.rows import ReleaseRow


def age_key(r: ReleaseRow) -> tuple[dt.date, int, int]:
    """Oldest first: release date, then CPL entry number, then record id; total and deterministic."""
    return (r.release_date or dt.date.min, r.cpl_entry_number or 0, r.id)


def is_step(r: ReleaseRow) -> bool:
    """A release a device may be upgraded to: published in the FIR and listed Current on the CPL."""
    return r.status == "PUBLISHED" and r.cpl_status == "CURRENT"


def lineage(releases: Iterable[ReleaseRow]) -> list[ReleaseRow]:
    return sorted((r for r in releases if r.status == "PUBLISHED"), key=age_key)


def latest(releases: Iterable[ReleaseRow]) -> ReleaseRow | None:
    return max((r for r in releases if is_step(r)), key=age_key, default=None)


def upgrade_path(
    start_version: str, target: ReleaseRow, releases: Iterable[ReleaseRow]
) -> list[ReleaseRow] | None:
    """Fewest steps from `start_version` to `target` along upgradable-from edges; None when unreachable.

    Breadth-first over firmware versions, so a cycle in bad data ends when every version has been
    seen once. Ties between equally short routes go to the oldest release at each step (age_key),
    because neighbours are expanded in that order.
    """
    if start_version == target.firmware_version:
        return []
    successors: dict[str, list[ReleaseRow]] = {}
    for r in sorted((r for r in releases if is_step(r)), key=age_key):
        for source in r.upgradable_from:
            successors.setdefault(source, []).append(r)
    came_from: dict[str, tuple[str, ReleaseRow]] = {}
    queue = deque([start_version])
    seen = {start_version}
    while queue:
        version = queue.popleft()
        for step in successors.get(version, ()):
            nxt = step.firmware_version
            if nxt in seen:
                continue
            seen.add(nxt)
            came_from[nxt] = (version, step)
            if nxt == target.firmware_version:
                return _walk_back(came_from, start_version, nxt)
            queue.append(nxt)
    return None


def _walk_back(came_from: dict[str, tuple[str, ReleaseRow]], start: str, end: str) -> list[ReleaseRow]:
    path: list[ReleaseRow] = []
    version = end
    while version != start:
        version, step = came_from[version][0], came_from[version][1]
        path.append(step)
    path.reverse()
    return path
