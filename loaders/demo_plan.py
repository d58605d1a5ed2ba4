"""The demo dataset's plan: manufacturers, models and lineages decided from the seed alone, no database."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from loaders.demo_words import BRANDS, MODEL_NAMES, REGIONS, SUFFIXES
from loaders.vocabulary import CplStatus, ReleaseStatus

# A fixed seed and string-seeded generators (hashed with SHA-512, immune to PYTHONHASHSEED)
# make every run produce the same rows.
SEED: Final = "fir-demo-2019"
ACTOR: Final = "demo-loader"
MAX_SCALE: Final = 100
FIRST_LISTING: Final = date(2019, 2, 1)
LAST_LISTING: Final = date(2026, 3, 31)
# Removals, withdrawals and pending submissions all fall before this day, so nothing looks
# like it happened in the future for a reader in mid-2026.
HORIZON: Final = date(2026, 6, 30)

Identity = tuple[str, str, str, str]

# Named identities that the README, the tests and the benchmarks can point at.
SHOWCASE: Final[dict[str, Identity]] = {
    # real CPL entry 1; latest is three upgrade steps away (124074DA -> 12407510 -> 12500101 -> 12610010)
    "multi_step": ("106C", "4331", "00AC", "124074DA"),
    # real CPL entry 23, Removed; two steps to latest
    "removed_outdated": ("1063", "4772", "0101", "03030236"),
    # 01010005 took a new bootloader and names no predecessor: no path from here to latest
    "no_path": ("A0E1", "E470", "0102", "01000200"),
    # the only route runs through a withdrawn release (02000105); the resolvers decide what that means
    "withdrawn_on_path": ("A0E1", "E480", "0001", "02000001"),
    # stepwise lineage whose only route runs through a Removed CPL entry (05000100)
    "removed_on_path": ("A0E1", "6210", "0100", "05000003"),
    # already the latest
    "up_to_date": ("106C", "4331", "00AC", "12610010"),
}


@dataclass
class Version:
    """One firmware version of one model and hardware version, as the CPL and the FIR see it."""

    firmware: str
    day: date  # CPL listing date; the submission date when not listed
    cpl: str | None = CplStatus.CURRENT
    release: str | None = ReleaseStatus.PUBLISHED
    upgradable_from: tuple[str, ...] = ()
    removed_on: date | None = None
    number: int | None = None  # pinned only for the two real rows
    image_hash: str | None = None
    smets_chts: str | None = None
    gbcs: str | None = None
    cpl_version: str | None = None


@dataclass
class Lineage:
    manufacturer_id: str
    model_id: str
    hardware: str
    device_type: str
    versions: list[Version] = field(default_factory=list)


@dataclass(frozen=True)
class Manufacturer:
    manufacturer_id: str
    name: str
    brand: str
    profile: tuple[str, ...]

    @property
    def slug(self) -> str:
        company = re.sub(r" (Ltd|plc)\b", "", self.name)
        return re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")


@dataclass(frozen=True)
class Model:
    manufacturer_id: str
    model_id: str
    name: str
    device_type: str


@dataclass
class Plan:
    manufacturers: list[Manufacturer] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    lineages: list[Lineage] = field(default_factory=list)


_METERS: Final = ("ESME", "ESME", "ESME", "GSME", "GSME", "PPMID", "HCALCS", "IHD")
_HUBS: Final = ("CHF", "CHF", "GPF")
_DISPLAYS: Final = ("IHD", "IHD", "CAD", "CAD", "PPMID")
_MIXED: Final = ("ESME", "ESME", "GSME", "GSME", "CHF", "GPF", "PPMID", "HCALCS", "IHD", "CAD")
# Cycled by index, so every device type appears at every scale.
_PROFILES: Final = (_METERS, _HUBS, _DISPLAYS, _MIXED)

_HARDWARE: Final = ("0001", "0002", "0003", "0100", "0101", "0102", "0200", "0201", "00AC", "00AD", "0A01")


def choose(rng: random.Random, pool: Sequence[str]) -> str:
    return pool[rng.randrange(len(pool))]


def _hex4(rng: random.Random, taken: set[str], low: int = 0x0100, high: int = 0xFFFE) -> str:
    while True:
        value = f"{rng.randint(low, high):04X}"
        if value not in taken:
            taken.add(value)
            return value


def _manufacturer_name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A fresh brand while any is left (two makers sharing one reads oddly), then regional variants."""
    used = {name.split(" ")[0] for name in taken}
    fresh = [b for b in BRANDS if b not in used]
    for attempt in range(500):
        brand = choose(rng, fresh or BRANDS)
        name = f"{brand} {choose(rng, SUFFIXES)}"
        if attempt >= 50:  # the plain combinations run out at high scales
            name = f"{name} ({choose(rng, REGIONS)})"
        if name not in taken:
            taken.add(name)
            return brand, name
    raise AssertionError("manufacturer names exhausted")


# ---------------------------------------------------------------------------------------------
# Hand-made lineages: the real rows and the showcase cases must not depend on the dice.


def _fixed_manufacturers() -> list[Manufacturer]:
    return [
        Manufacturer("106C", "Example Hub Makers Ltd", "Example", _HUBS),
        Manufacturer("1063", "Example Gas Meters Ltd", "Example", ("GSME", "GSME", "GPF", "IHD")),
        Manufacturer("A0E1", "Northwind Metering Ltd", "Northwind", _METERS),
    ]


_REAL_CPL_VERSION: Final = "Version 2.051 Issued on 21-09-2022"


def _v(fw: str, day: date, *sources: str, **extra: Any) -> Version:
    return Version(fw, day, upgradable_from=sources, **extra)


def _fixed_models_and_lineages() -> tuple[list[Model], list[Lineage]]:
    models = [
        Model("106C", "4331", "Example Hub Makers SMWAN Communications Hub (North)", "CHF"),
        Model("1063", "4772", "Example Gas Meters G4 Gas Smart Meter", "GSME"),
        Model("A0E1", "E470", "Northwind E470 Single Phase Credit ESME", "ESME"),
        Model("A0E1", "E480", "Northwind E480 Polyphase ESME", "ESME"),
        Model("A0E1", "6210", "Northwind G210 U6 Gas Smart Meter", "GSME"),
    ]
    hub = Lineage("106C", "4331", "00AC", "CHF", [
        _v("124074DA", date(2019, 1, 15), number=1, smets_chts="CHTS V1.0", gbcs="GBCS Version 1.0",
           cpl_version=_REAL_CPL_VERSION,
           image_hash="137ED5BC81A21F6D2187BC380381AEA7705BF65D3E4DAEA28EFD44113079D5E9"),
        _v("12407510", date(2019, 11, 20), "124074DA"),
        _v("1240752C", date(2020, 9, 8), "12407510", cpl=CplStatus.REMOVED, removed_on=date(2021, 3, 2)),
        _v("12500101", date(2021, 6, 14), "12407510", "1240752C"),
        _v("12600004", date(2023, 2, 27), "12500101"),
        _v("12610010", date(2025, 5, 19), "12600004", "12500101"),
        _v("12700002", date(2026, 5, 6), "12610010", cpl=None, release=ReleaseStatus.SUBMITTED),
    ])  # fmt: skip
    gas = Lineage("1063", "4772", "0101", "GSME", [
        _v("03030236", date(2019, 3, 12), number=23, cpl=CplStatus.REMOVED, removed_on=date(2021, 6, 15),
           smets_chts="SMETS V2.0", gbcs="GBCS Version 1.0", cpl_version=_REAL_CPL_VERSION,
           image_hash="DDF62A640765028BA5C8412F864EF09D6D0508A90849017D0232F663460200A5"),
        _v("03040010", date(2020, 2, 24), "03030236"),
        _v("03050002", date(2021, 5, 10), "03040010"),
        _v("03050104", date(2024, 1, 22), "03050002", "03040010"),
    ])  # fmt: skip
    gap = Lineage("A0E1", "E470", "0102", "ESME", [
        _v("01000010", date(2019, 6, 3)),
        _v("01000200", date(2020, 4, 14), "01000010"),
        _v("01010005", date(2021, 9, 27)),  # new bootloader: not reachable over the air
        _v("01020001", date(2023, 8, 21), "01010005"),
        _v("01020100", date(2025, 2, 10), "01020001", "01010005"),
    ])  # fmt: skip
    withdrawn = Lineage("A0E1", "E480", "0001", "ESME", [
        _v("02000001", date(2019, 9, 9)),
        _v("02000105", date(2020, 11, 2), "02000001", release=ReleaseStatus.WITHDRAWN),
        _v("02010000", date(2021, 8, 16), "02000105"),
        _v("02020003", date(2024, 4, 8), "02010000"),
    ])  # fmt: skip
    removed = Lineage("A0E1", "6210", "0100", "GSME", [
        _v("05000003", date(2019, 5, 20)),
        _v("05000100", date(2020, 7, 6), "05000003", cpl=CplStatus.REMOVED, removed_on=date(2022, 1, 10)),
        _v("05010002", date(2021, 11, 29), "05000100"),
        _v("05010200", date(2023, 10, 16), "05010002"),
        _v("05020001", date(2025, 6, 2), "05010200"),
    ])  # fmt: skip
    return models, [hub, gas, gap, withdrawn, removed]


# ---------------------------------------------------------------------------------------------
# Generated lineages.


def _next_firmware(rng: random.Random, fw: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    major, minor, patch, _ = fw
    roll = rng.random()
    if roll < 0.1:
        return major + 1, 0, 0, rng.randint(0, 0x3F)
    if roll < 0.4:
        return major, minor + 1, 0, rng.randint(0, 0x3F)
    return major, minor, patch + rng.randint(1, 3), rng.randint(0, 0xFF)


def _firmware_versions(rng: random.Random, count: int) -> list[str]:
    fw = (rng.randint(1, 0x30), rng.randint(0, 9), rng.randint(0, 0x20), rng.randint(0, 0xFF))
    versions = []
    for _ in range(count):
        versions.append("".join(f"{part:02X}" for part in fw))
        fw = _next_firmware(rng, fw)
    return versions


def _listing_days(rng: random.Random, count: int) -> list[date]:
    day = FIRST_LISTING + timedelta(days=rng.randint(0, 1500))
    mean_gap = (LAST_LISTING - day).days / (count - 1)
    days = []
    for _ in range(count):
        days.append(day)
        day += timedelta(days=max(14, rng.randint(int(mean_gap * 0.5), int(mean_gap))))
    return days


def _sources(rng: random.Random, kind: str, index: int, gap: int) -> tuple[int, ...]:
    """Indexes of the versions that may upgrade to version `index`: mostly the previous one or two."""
    if index == 0 or kind == "unmapped" or (kind == "gap" and index == gap):
        return ()
    if kind == "stepwise":
        return (index - 1,)
    wanted = [index - 1]
    if index >= 2 and rng.random() < 0.45:
        wanted.append(index - 2)
    if index >= 3 and rng.random() < 0.1:
        wanted.append(index - 3)
    floor = gap if kind == "gap" and index > gap else 0  # never bridge the gap
    return tuple(j for j in wanted if j >= floor)


def _removal(rng: random.Random, index: int, count: int) -> bool:
    # Old firmware is what gets removed from the CPL; the newest entry only rarely.
    if index == count - 1:
        return rng.random() < 0.03
    return rng.random() < (0.24 if index < count / 2 else 0.05)


def _removed_on(rng: random.Random, days: list[date], index: int) -> date:
    after = days[index + 1] if index + 1 < len(days) else days[index]
    return min(HORIZON, after + timedelta(days=rng.randint(7, 180)))


def _release_status(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.08:  # listed on the CPL, never recorded in the FIR
        return None
    return ReleaseStatus.WITHDRAWN if roll < 0.09 else ReleaseStatus.PUBLISHED


def _lineage_kind(rng: random.Random) -> str:
    return rng.choices(("normal", "stepwise", "gap", "unmapped"), weights=(72, 15, 9, 4))[0]


def _random_lineage(rng: random.Random, model: Model, hardware: str) -> Lineage:
    count = rng.randint(3, 12)
    kind = _lineage_kind(rng)
    gap = rng.randint(1, count - 1)
    firmware, days = _firmware_versions(rng, count), _listing_days(rng, count)
    lineage = Lineage(model.manufacturer_id, model.model_id, hardware, model.device_type)
    for i, (fw, day) in enumerate(zip(firmware, days, strict=True)):
        removed = _removal(rng, i, count)
        lineage.versions.append(
            Version(
                fw,
                day,
                cpl=CplStatus.REMOVED if removed else CplStatus.CURRENT,
                removed_on=_removed_on(rng, days, i) if removed else None,
                release=_release_status(rng),
                upgradable_from=tuple(firmware[j] for j in _sources(rng, kind, i, gap)),
            )
        )
    return lineage


def _random_models(rng: random.Random, maker: Manufacturer, count: int, taken: set[str]) -> list[Model]:
    models = []
    for _ in range(count):
        device_type = choose(rng, maker.profile)
        code = f"{device_type[0]}{rng.randint(100, 999)}"
        name = choose(rng, MODEL_NAMES[device_type]).format(b=maker.brand, c=code)
        models.append(Model(maker.manufacturer_id, _hex4(rng, taken), name, device_type))
    return models


def _hardware_versions(rng: random.Random) -> list[str]:
    count = rng.choices((1, 2, 3), weights=(65, 30, 5))[0]
    return sorted(rng.sample(_HARDWARE, count))


def _pending(rng: random.Random, lineages: list[Lineage], status: str, count: int) -> None:
    """New firmware sent to the FIR ahead of its CPL listing (SUBMITTED) or still being written (DRAFT)."""
    for lineage in rng.sample(lineages, count):
        last = lineage.versions[-1]
        major, minor, patch, build = (int(last.firmware[i : i + 2], 16) for i in range(0, 8, 2))
        fw = "".join(f"{p:02X}" for p in _next_firmware(rng, (major, minor, patch, build)))
        day = max(last.day + timedelta(days=30), date(2026, 4, 1)) + timedelta(days=rng.randint(0, 60))
        sources = tuple(v.firmware for v in lineage.versions[-rng.randint(1, 2) :])
        version = Version(fw, min(day, HORIZON), cpl=None, release=status, upgradable_from=sources)
        lineage.versions.append(version)


def build_plan(scale: int = 1) -> Plan:
    """Everything the loader writes, decided up front from the seed and the scale alone."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, not {scale}")
    rng = random.Random(f"{SEED}:{scale}")  # noqa: S311 - demo data, not secrets
    plan = Plan(manufacturers=_fixed_manufacturers())
    ids = {m.manufacturer_id for m in plan.manufacturers}
    names = {m.name for m in plan.manufacturers}
    for i in range(20 * scale - len(plan.manufacturers)):
        brand, name = _manufacturer_name(rng, names)
        # 0x7000 and up: clear of the ZigBee codes meter makers actually hold
        maker_id = _hex4(rng, ids, low=0x7000, high=0xEFFF)
        plan.manufacturers.append(Manufacturer(maker_id, name, brand, _PROFILES[i % len(_PROFILES)]))
    fixed_models, fixed_lineages = _fixed_models_and_lineages()
    plan.models.extend(fixed_models)
    plan.lineages.extend(fixed_lineages)
    generated: list[Lineage] = []
    for maker in plan.manufacturers:
        taken = {m.model_id for m in fixed_models if m.manufacturer_id == maker.manufacturer_id}
        count = rng.randint(6, 10) if maker.profile is _HUBS else rng.randint(12, 20)
        for model in _random_models(rng, maker, count - len(taken), taken):
            plan.models.append(model)
            generated.extend(_random_lineage(rng, model, hw) for hw in _hardware_versions(rng))
    _pending(rng, generated, ReleaseStatus.SUBMITTED, 6 * scale)
    _pending(rng, [g for g in generated if g.versions[-1].cpl is not None], ReleaseStatus.DRAFT, 2 * scale)
    plan.lineages.extend(generated)
    return plan
