"""Latest release and upgrade paths (SEC MP231): a directed graph between firmware versions of one model."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from loaders.rows import ReleaseRow
from loaders.vocabulary import CplStatus, ReleaseStatus


def listing_key(r: ReleaseRow) -> tuple[int, int, int]:
    """Oldest first in CPL listing order: entry number, then record id; total and deterministic.

    The CPL numbers its entries as it lists them, so the highest number is the newest. A release
    with no entry yet (a submission awaiting listing) will be listed after every entry there is, so
    it sorts after them, in submission (id) order. The manufacturer's release date is free text and
    never decides.
    """
    number = r.cpl_entry_number
    return (0, number, r.id) if number is not None else (1, 0, r.id)


def backwards(version: str, source_entry: int | None, target_entry: int | None) -> str | None:
    """Why an upgrade edge from `version` (on `source_entry`) into `target_entry` runs backwards in
    listing order, or None when it does not.

    Firmware not on the CPL yet will be listed after every entry there is, so an edge from it into a
    listed release runs backwards too; between two unlisted versions there is no order yet.
    """
    if target_entry is None or (source_entry is not None and source_entry < target_entry):
        return None
    listed = "is not on the CPL yet" if source_entry is None else f"is listed as CPL entry {source_entry}"
    return (
        f"firmware {version} {listed}, after this release's entry {target_entry}: an upgrade runs from"
        " an earlier-listed CPL entry to a later one"
    )


def is_step(r: ReleaseRow) -> bool:
    """A release a device may be upgraded to: published in the FIR and listed Current on the CPL."""
    return r.status == ReleaseStatus.PUBLISHED and r.cpl_status == CplStatus.CURRENT


def lineage(releases: Iterable[ReleaseRow]) -> list[ReleaseRow]:
    return sorted((r for r in releases if r.status == ReleaseStatus.PUBLISHED), key=listing_key)


def steps_of(lineage: list[ReleaseRow]) -> list[ReleaseRow]:
    """The releases of a lineage (published, in listing order) a device may be upgraded to, in the
    same order: every step is published, so no other release is one, and no second sort is needed."""
    return [r for r in lineage if is_step(r)]


Successors = dict[str, list[ReleaseRow]]


def listed_entries(lineage: Iterable[ReleaseRow]) -> dict[str, int]:
    """Each firmware version's CPL entry number, as its published releases give it (the later one
    when a version was listed twice)."""
    listed: dict[str, int] = {}
    for r in lineage:
        if r.cpl_entry_number is not None:
            listed[r.firmware_version] = max(r.cpl_entry_number, listed.get(r.firmware_version, 0))
    return listed


def forwards(source_entry: int | None, step: ReleaseRow) -> bool:
    """An edge from firmware on `source_entry` into `step` runs forwards in listing order, or its
    source's place is not known (firmware not on the CPL): a route follows only such edges. An edge
    listCplEntry accepted although it runs backwards (it reports them) is never a step of a route:
    it would take a device back to firmware the CPL listed before its own."""
    target = step.cpl_entry_number
    return source_entry is None or target is None or source_entry < target


def successors_of(steps: list[ReleaseRow], listed: dict[str, int] | None = None) -> Successors:
    """Each firmware version's upgrade edges, to steps in the order given (listing order); edges that
    run backwards between two listed versions (`listed`: listed_entries) are left out."""
    known = listed or {}
    successors: Successors = {}
    for r in steps:
        for source in r.upgradable_from:
            if forwards(known.get(source), r):
                successors.setdefault(source, []).append(r)
    return successors


def route(
    start_version: str, target: ReleaseRow, successors: Successors, start_entry: int | None = None
) -> list[ReleaseRow] | None:
    """Fewest steps from `start_version` (listed as CPL entry `start_entry`, if known) to `target`
    along a model's upgrade edges, built once (`successors_of`) for all its devices; None when
    unreachable. Never a step back in listing order: the first step must follow `start_entry` too.

    Breadth-first over firmware versions, so a cycle in bad data ends when every version has been
    seen once. Ties between equally short routes go to the earliest-listed release at each step
    (listing_key), because neighbours are expanded in that order.
    """
    if start_version == target.firmware_version:
        return []
    came_from: dict[str, tuple[str, ReleaseRow]] = {}
    queue = deque([start_version])
    seen = {start_version}
    while queue:
        version = queue.popleft()
        for step in successors.get(version, ()):
            if version == start_version and not forwards(start_entry, step):
                continue
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
