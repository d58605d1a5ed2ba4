"""The demo dataset's rows: the plan turned into CPL entries, releases and contacts, ready to COPY."""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from loaders.demo_plan import ACTOR, HORIZON, SEED, Identity, Lineage, Plan, Version, choose
from loaders.demo_words import (
    COMMON_NOTES,
    FIRST_NAMES,
    LAST_NAMES,
    NOTES,
    SECURITY_NOTES,
    URGENCIES,
    WITHDRAWN_REASONS,
)
from loaders.vocabulary import ReleaseStatus, Urgency

_ERAS: Final = (  # (from, SMETS, CHTS, GBCS): the technical specifications in force when listed
    (date(2019, 1, 1), "SMETS V2.0", "CHTS V1.0", "GBCS Version 1.0"),
    (date(2020, 1, 1), "SMETS V3.0", "CHTS V2.0", "GBCS Version 2.0"),
    (date(2021, 7, 1), "SMETS V4.0", "CHTS V3.0", "GBCS Version 3.2"),
    (date(2023, 6, 1), "SMETS V5.0", "CHTS V4.0", "GBCS Version 4.0"),
)
_CPL_ANCHOR: Final = (date(2022, 9, 21), 2051)  # the real "Version 2.051 Issued on 21-09-2022"


def _cpl_version(day: date) -> str:
    """The fortnightly CPL issue that first carried an entry listed on `day`."""
    anchor, number = _CPL_ANCHOR
    issue = math.ceil((day - anchor).days / 14)
    n, issued = number + issue, anchor + timedelta(days=14 * issue)
    return f"Version {n // 1000}.{n % 1000:03d} Issued on {issued:%d-%m-%Y}"


def _specs(device_type: str, day: date) -> tuple[str, str]:
    era = [e for e in _ERAS if e[0] <= day][-1]
    return (era[2] if device_type in ("CHF", "GPF") else era[1]), era[3]


def _image_hash(lineage: Lineage, version: Version) -> str:
    if version.image_hash is not None:
        return version.image_hash
    seed = f"{SEED}:{lineage.manufacturer_id}:{lineage.model_id}:{lineage.hardware}:{version.firmware}"
    return hashlib.sha256(seed.encode()).hexdigest().upper()


def _entry_numbers(reserved: set[int]) -> Iterator[int]:
    n = 1
    while True:
        if n not in reserved:
            yield n
        n += 1


def cpl_rows(plan: Plan) -> tuple[list[tuple[Any, ...]], dict[Identity, int]]:
    """CPL entries numbered in listing order, as the real list grows; real rows keep their numbers."""
    listed = [(ln, v) for ln in plan.lineages for v in ln.versions if v.cpl is not None]
    listed.sort(key=lambda p: (p[1].day, p[0].manufacturer_id, p[0].model_id, p[0].hardware, p[1].firmware))
    numbers = _entry_numbers({v.number for _, v in listed if v.number is not None})
    rows: list[tuple[Any, ...]] = []
    by_identity: dict[Identity, int] = {}
    for lineage, version in listed:
        number = version.number if version.number is not None else next(numbers)
        smets, gbcs = _specs(lineage.device_type, version.day)
        identity = (lineage.manufacturer_id, lineage.model_id, lineage.hardware, version.firmware)
        by_identity[identity] = number
        rows.append(
            (number, version.cpl, *identity, lineage.device_type, version.smets_chts or smets,
             version.gbcs or gbcs, _image_hash(lineage, version),
             version.cpl_version or _cpl_version(version.day), version.day, version.removed_on)
        )  # fmt: skip
    rows.sort(key=lambda r: int(r[0]))
    return rows, by_identity


def _notes(rng: random.Random, device_type: str, urgent: bool) -> str:
    pool = NOTES[device_type] + COMMON_NOTES
    lead = [choose(rng, SECURITY_NOTES)] if urgent else []
    return " ".join(lead + rng.sample(pool, rng.randint(0, 2) if urgent else rng.randint(1, 3)))


def _advisories(rng: random.Random, urgent: bool, year: int, maker_id: str) -> list[str]:
    if not urgent or rng.random() < 0.15:
        return []
    ids = [f"CVE-{year}-{rng.randint(31000, 31999)}"]
    if rng.random() < 0.4:
        ids.append(f"FIR-SA-{maker_id}-{year}-{rng.randint(1, 40):03d}")
    return ids


def _at(day: date, hour: int, rng: random.Random) -> datetime:
    return datetime.combine(day, time(hour, rng.randint(0, 59)), UTC)


def _release_row(
    rng: random.Random, lineage: Lineage, version: Version, numbers: dict[Identity, int]
) -> tuple[Any, ...]:
    identity = (lineage.manufacturer_id, lineage.model_id, lineage.hardware, version.firmware)
    listed = version.cpl is not None
    released = version.day - timedelta(days=rng.randint(0, 21)) if listed else version.day
    urgency = rng.choices(URGENCIES, weights=(40, 35, 18, 7))[0]
    urgent = urgency in (Urgency.HIGH, Urgency.CRITICAL)
    published = (
        _at(version.day, 10, rng)
        if version.release in (ReleaseStatus.PUBLISHED, ReleaseStatus.WITHDRAWN)
        else None
    )
    withdrawn = None
    if version.release == ReleaseStatus.WITHDRAWN:
        withdrawn = min(_at(HORIZON, 9, rng), _at(version.day, 15, rng) + timedelta(days=rng.randint(3, 120)))
    return (
        *identity, _image_hash(lineage, version), version.release, numbers.get(identity), released,
        _notes(rng, lineage.device_type, urgent), urgency,
        _advisories(rng, urgent, released.year, lineage.manufacturer_id), ACTOR, lineage.manufacturer_id,
        _at(released, 9, rng), published, ACTOR if published else None, withdrawn,
        ACTOR if withdrawn else None, choose(rng, WITHDRAWN_REASONS) if withdrawn else None,
    )  # fmt: skip


def release_rows(
    plan: Plan, numbers: dict[Identity, int]
) -> tuple[list[tuple[Any, ...]], list[tuple[str, ...]]]:
    """Release rows in submission order (so ids grow with time) and each row's upgrade sources."""
    rng = random.Random(f"{SEED}:releases")  # noqa: S311 - demo data, not secrets
    pairs = [
        (_release_row(rng, ln, v, numbers), v.upgradable_from)
        for ln in plan.lineages
        for v in ln.versions
        if v.release is not None
    ]
    pairs.sort(key=lambda p: (p[0][13], p[0][:4]))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def contact_rows(plan: Plan) -> list[tuple[Any, ...]]:
    rng = random.Random(f"{SEED}:contacts")  # noqa: S311 - demo data, not secrets
    rows: list[tuple[Any, ...]] = []
    for maker in plan.manufacturers:
        roles = ["FIRMWARE", "SUPPORT", "SECURITY"] + (["FIRMWARE"] if rng.random() < 0.3 else [])
        for position, role in enumerate(roles):
            first, last = choose(rng, FIRST_NAMES), choose(rng, LAST_NAMES)
            email = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower()) + f"@{maker.slug}.example.com"
            # Ofcom's drama range: 020 7946 0000 to 0999 never rings anyone
            phone = f"+44 20 7946 0{len(rows) * 7 % 1000:03d}"
            rows.append((maker.manufacturer_id, role, f"{first} {last}", email, phone, position))
    return rows
