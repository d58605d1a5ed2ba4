"""What a release may say, for a submission and an amendment alike: dates, urgency, advisories, upgrade sources."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from loaders import release_writes as rw
from loaders.vocabulary import Urgency
from resolvers import paths
from resolvers.errors import BadUserInput
from resolvers.identity import Identity, quoted, require_firmware
from resolvers.unit_of_work import UnitOfWork

EARLIEST_RELEASE = dt.date(2010, 1, 1)  # before GB smart metering existed: certainly a typo
MAX_NOTES = 20_000
MAX_ADVISORIES = 50
MAX_UPGRADABLE_FROM = 200
_CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE | re.ASCII)  # ASCII: no Unicode digits in an id
_VENDOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")


def release_date(value: dt.date | None, today: dt.date) -> dt.date | None:
    if value is None:
        return None
    if value < EARLIEST_RELEASE:
        raise BadUserInput(
            f"input.releaseDate must not be before {EARLIEST_RELEASE}", field="input.releaseDate"
        )
    if value > today + dt.timedelta(days=365):
        raise BadUserInput("input.releaseDate must be within a year from today", field="input.releaseDate")
    return value


def urgency(value: str | None) -> str | None:
    if value is not None and value not in set(Urgency):
        raise BadUserInput(f"input.urgency must be one of {[*Urgency]}", field="input.urgency")
    return value


def advisories(values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_ADVISORIES:
        raise BadUserInput(f"at most {MAX_ADVISORIES} advisories", field="input.advisories")
    cleaned: list[str] = []
    for i, value in enumerate(values):
        advisory = value.strip()
        if _CVE.fullmatch(advisory):
            advisory = advisory.upper()
        # something that starts like a CVE id must be one: "CVE-24-1" is a typo, not a vendor id
        elif advisory.upper().startswith("CVE-") or not _VENDOR_ID.fullmatch(advisory):
            raise BadUserInput(
                f"advisory {quoted(value)} is neither a CVE id (CVE-2024-12345) nor a vendor id of at most 64"
                " letters, digits and ._:/-",
                field=f"input.advisories[{i}]",
            )
        if advisory not in cleaned:  # a repeated advisory says nothing new
            cleaned.append(advisory)
    return tuple(cleaned)


def upgradable_from(values: Sequence[str], own_version: str) -> tuple[str, ...]:
    if len(values) > MAX_UPGRADABLE_FROM:
        raise BadUserInput(f"at most {MAX_UPGRADABLE_FROM} source versions", field="input.upgradableFrom")
    cleaned: list[str] = []
    for i, value in enumerate(values):
        where = f"input.upgradableFrom[{i}]"
        version = require_firmware(value, where)
        if version == own_version:
            raise BadUserInput(f"{where}: a release cannot upgrade from its own version", field=where)
        if version in cleaned:
            raise BadUserInput(f"{where}: version {version} is listed twice", field=where)
        cleaned.append(version)
    return tuple(cleaned)


async def check_upgrade_graph(
    work: UnitOfWork, identity: Identity, sources: Sequence[str], entry_number: int | None
) -> None:
    """Sources must exist for this model and hardware, be listed on the CPL before this release's own
    entry (`entry_number`, None when not listed yet), and no new edge may close a cycle."""
    if not sources:
        return
    model_key = identity.model_key
    known = await rw.known_versions(work.tx, *model_key)
    for i, version in enumerate(sources):
        where = f"input.upgradableFrom[{i}]"
        if version not in known:
            raise BadUserInput(
                f"{where}: firmware {version} is neither listed nor recorded for this model and hardware",
                field=where,
            )
        if (why := paths.backwards(version, known[version], entry_number)) is not None:
            raise BadUserInput(f"{where}: {why}", field=where)
    # New edges run source -> this version, so a cycle exists when a source is reachable from it.
    edges = [e for e in await rw.upgrade_edges(work.tx, *model_key) if e[1] != identity.firmware_version]
    reachable = _reachable(identity.firmware_version, edges)
    for i, version in enumerate(sources):
        if version in reachable:
            where = f"input.upgradableFrom[{i}]"
            raise BadUserInput(
                f"{where}: {version} already upgrades (directly or in steps) to this version: a cycle",
                field=where,
            )


def _reachable(start: str, edges: Iterable[tuple[str, str]]) -> set[str]:
    successors: dict[str, list[str]] = {}
    for source, target in edges:
        successors.setdefault(source, []).append(target)
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in successors.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
