"""A deterministic, realistic demo dataset: fictional manufacturers around two real CPL rows."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import asyncpg

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
# Two gateway replicas started together on an empty database must not both load.
_LOCK_KEY: Final = 0x46495244454D4F

Identity = tuple[str, str, str, str]
Progress = Callable[[str, int, int], None]

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


class DatabaseNotEmptyError(RuntimeError):
    """Demo data only goes into an empty database; the CLI decides what to do instead."""


@dataclass(frozen=True)
class DemoSummary:
    manufacturers: int
    contacts: int
    models: int
    cpl_entries: int
    releases: int
    edges: int
    submitted: int
    removed: int
    withdrawn: int
    drafts: int


# ---------------------------------------------------------------------------------------------
# The plan: plain data, built without a database.


@dataclass
class _Version:
    """One firmware version of one model and hardware version, as the CPL and the FIR see it."""

    firmware: str
    day: date  # CPL listing date; the submission date when not listed
    cpl: str | None = "CURRENT"
    release: str | None = "PUBLISHED"
    upgradable_from: tuple[str, ...] = ()
    removed_on: date | None = None
    number: int | None = None  # pinned only for the two real rows
    image_hash: str | None = None
    smets_chts: str | None = None
    gbcs: str | None = None
    cpl_version: str | None = None


@dataclass
class _Lineage:
    manufacturer_id: str
    model_id: str
    hardware: str
    device_type: str
    versions: list[_Version] = field(default_factory=list)


@dataclass(frozen=True)
class _Manufacturer:
    manufacturer_id: str
    name: str
    brand: str
    profile: tuple[str, ...]

    @property
    def slug(self) -> str:
        company = re.sub(r" (Ltd|plc)\b", "", self.name)
        return re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")


@dataclass(frozen=True)
class _Model:
    manufacturer_id: str
    model_id: str
    name: str
    device_type: str


@dataclass
class _Plan:
    manufacturers: list[_Manufacturer] = field(default_factory=list)
    models: list[_Model] = field(default_factory=list)
    lineages: list[_Lineage] = field(default_factory=list)


_BRANDS: Final = (
    "Northwind", "Bluefield", "Harrowgate", "Kestrel", "Ashdown", "Brackenridge", "Calderwood",
    "Dunmore", "Elmstead", "Fenwick", "Glenholm", "Hawthorne", "Ivybridge", "Juniper", "Kingsmere",
    "Larkspur", "Marlowe", "Netherby", "Oakhurst", "Pennant", "Quarrington", "Redwater", "Stonebridge",
    "Thornbury", "Upperton", "Valemont", "Westcombe", "Yarrow", "Zephyr", "Amberline", "Beacon",
    "Cobalt", "Driftwood", "Emberly", "Foxglove", "Greystone", "Heron", "Ironbridge", "Lowther",
    "Millbrook", "Ormsby", "Pembury", "Rosedale", "Saltmarsh", "Tidewell",
)  # fmt: skip
_SUFFIXES: Final = (
    "Metering Ltd", "Smart Meters Ltd", "Energy Devices plc", "Meter Systems Ltd",
    "Metering Technologies Ltd", "Controls Ltd", "Instruments Ltd", "Electronics Ltd",
)  # fmt: skip
_REGIONS: Final = ("UK", "Scotland", "Wales", "Northern", "Southern", "Midlands", "Anglia", "Pennine")

_METERS: Final = ("ESME", "ESME", "ESME", "GSME", "GSME", "PPMID", "HCALCS", "IHD")
_HUBS: Final = ("CHF", "CHF", "GPF")
_DISPLAYS: Final = ("IHD", "IHD", "CAD", "CAD", "PPMID")
_MIXED: Final = ("ESME", "ESME", "GSME", "GSME", "CHF", "GPF", "PPMID", "HCALCS", "IHD", "CAD")
# Cycled by index, so every device type appears at every scale.
_PROFILES: Final = (_METERS, _HUBS, _DISPLAYS, _MIXED)

_MODEL_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "ESME": (
        "{b} {c} Single Phase Credit ESME", "{b} {c} Polyphase ESME", "{b} {c} Twin Element ESME",
        "{b} {c} Single Phase Smart Electricity Meter",
    ),
    "GSME": ("{b} {c} U6 Gas Smart Meter", "{b} {c} Ultrasonic GSME", "{b} {c} Diaphragm Gas Smart Meter"),
    "CHF": (
        "{b} {c} Communications Hub (North)", "{b} {c} Communications Hub (Central and South)",
        "{b} {c} Dual Band Communications Hub",
    ),
    "GPF": ("{b} {c} Gas Proxy Function",),
    "PPMID": ("{b} {c} Prepayment Meter Interface Device", "{b} {c} PPMID Keypad Display"),
    "HCALCS": ("{b} {c} Auxiliary Load Control Switch", "{b} {c} Boost Switch (HCALCS)"),
    "IHD": ("{b} {c} Colour In-Home Display", "{b} {c} In-Home Display"),
    "CAD": ("{b} {c} Consumer Access Device", "{b} {c} Energy Bridge CAD"),
}  # fmt: skip
_HARDWARE: Final = ("0001", "0002", "0003", "0100", "0101", "0102", "0200", "0201", "00AC", "00AD", "0A01")


def _choose(rng: random.Random, pool: Sequence[str]) -> str:
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
    fresh = [b for b in _BRANDS if b not in used]
    for attempt in range(500):
        brand = _choose(rng, fresh or _BRANDS)
        name = f"{brand} {_choose(rng, _SUFFIXES)}"
        if attempt >= 50:  # the plain combinations run out at high scales
            name = f"{name} ({_choose(rng, _REGIONS)})"
        if name not in taken:
            taken.add(name)
            return brand, name
    raise AssertionError("manufacturer names exhausted")


# ---------------------------------------------------------------------------------------------
# Hand-made lineages: the real rows and the showcase cases must not depend on the dice.


def _fixed_manufacturers() -> list[_Manufacturer]:
    return [
        _Manufacturer("106C", "Example Hub Makers Ltd", "Example", _HUBS),
        _Manufacturer("1063", "Example Gas Meters Ltd", "Example", ("GSME", "GSME", "GPF", "IHD")),
        _Manufacturer("A0E1", "Northwind Metering Ltd", "Northwind", _METERS),
    ]


_REAL_CPL_VERSION: Final = "Version 2.051 Issued on 21-09-2022"


def _v(fw: str, day: date, *sources: str, **extra: Any) -> _Version:
    return _Version(fw, day, upgradable_from=sources, **extra)


def _fixed_models_and_lineages() -> tuple[list[_Model], list[_Lineage]]:
    models = [
        _Model("106C", "4331", "Example Hub Makers SMWAN Communications Hub (North)", "CHF"),
        _Model("1063", "4772", "Example Gas Meters G4 Gas Smart Meter", "GSME"),
        _Model("A0E1", "E470", "Northwind E470 Single Phase Credit ESME", "ESME"),
        _Model("A0E1", "E480", "Northwind E480 Polyphase ESME", "ESME"),
        _Model("A0E1", "6210", "Northwind G210 U6 Gas Smart Meter", "GSME"),
    ]
    hub = _Lineage("106C", "4331", "00AC", "CHF", [
        _v("124074DA", date(2019, 1, 15), number=1, smets_chts="CHTS V1.0", gbcs="GBCS Version 1.0",
           cpl_version=_REAL_CPL_VERSION,
           image_hash="137ED5BC81A21F6D2187BC380381AEA7705BF65D3E4DAEA28EFD44113079D5E9"),
        _v("12407510", date(2019, 11, 20), "124074DA"),
        _v("1240752C", date(2020, 9, 8), "12407510", cpl="REMOVED", removed_on=date(2021, 3, 2)),
        _v("12500101", date(2021, 6, 14), "12407510", "1240752C"),
        _v("12600004", date(2023, 2, 27), "12500101"),
        _v("12610010", date(2025, 5, 19), "12600004", "12500101"),
        _v("12700002", date(2026, 5, 6), "12610010", cpl=None, release="SUBMITTED"),
    ])  # fmt: skip
    gas = _Lineage("1063", "4772", "0101", "GSME", [
        _v("03030236", date(2019, 3, 12), number=23, cpl="REMOVED", removed_on=date(2021, 6, 15),
           smets_chts="SMETS V2.0", gbcs="GBCS Version 1.0", cpl_version=_REAL_CPL_VERSION,
           image_hash="DDF62A640765028BA5C8412F864EF09D6D0508A90849017D0232F663460200A5"),
        _v("03040010", date(2020, 2, 24), "03030236"),
        _v("03050002", date(2021, 5, 10), "03040010"),
        _v("03050104", date(2024, 1, 22), "03050002", "03040010"),
    ])  # fmt: skip
    gap = _Lineage("A0E1", "E470", "0102", "ESME", [
        _v("01000010", date(2019, 6, 3)),
        _v("01000200", date(2020, 4, 14), "01000010"),
        _v("01010005", date(2021, 9, 27)),  # new bootloader: not reachable over the air
        _v("01020001", date(2023, 8, 21), "01010005"),
        _v("01020100", date(2025, 2, 10), "01020001", "01010005"),
    ])  # fmt: skip
    withdrawn = _Lineage("A0E1", "E480", "0001", "ESME", [
        _v("02000001", date(2019, 9, 9)),
        _v("02000105", date(2020, 11, 2), "02000001", release="WITHDRAWN"),
        _v("02010000", date(2021, 8, 16), "02000105"),
        _v("02020003", date(2024, 4, 8), "02010000"),
    ])  # fmt: skip
    removed = _Lineage("A0E1", "6210", "0100", "GSME", [
        _v("05000003", date(2019, 5, 20)),
        _v("05000100", date(2020, 7, 6), "05000003", cpl="REMOVED", removed_on=date(2022, 1, 10)),
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
    return "WITHDRAWN" if roll < 0.09 else "PUBLISHED"


def _lineage_kind(rng: random.Random) -> str:
    return rng.choices(("normal", "stepwise", "gap", "unmapped"), weights=(72, 15, 9, 4))[0]


def _random_lineage(rng: random.Random, model: _Model, hardware: str) -> _Lineage:
    count = rng.randint(3, 12)
    kind = _lineage_kind(rng)
    gap = rng.randint(1, count - 1)
    firmware, days = _firmware_versions(rng, count), _listing_days(rng, count)
    lineage = _Lineage(model.manufacturer_id, model.model_id, hardware, model.device_type)
    for i, (fw, day) in enumerate(zip(firmware, days, strict=True)):
        removed = _removal(rng, i, count)
        lineage.versions.append(
            _Version(
                fw,
                day,
                cpl="REMOVED" if removed else "CURRENT",
                removed_on=_removed_on(rng, days, i) if removed else None,
                release=_release_status(rng),
                upgradable_from=tuple(firmware[j] for j in _sources(rng, kind, i, gap)),
            )
        )
    return lineage


def _random_models(rng: random.Random, maker: _Manufacturer, count: int, taken: set[str]) -> list[_Model]:
    models = []
    for _ in range(count):
        device_type = _choose(rng, maker.profile)
        code = f"{device_type[0]}{rng.randint(100, 999)}"
        name = _choose(rng, _MODEL_NAMES[device_type]).format(b=maker.brand, c=code)
        models.append(_Model(maker.manufacturer_id, _hex4(rng, taken), name, device_type))
    return models


def _hardware_versions(rng: random.Random) -> list[str]:
    count = rng.choices((1, 2, 3), weights=(65, 30, 5))[0]
    return sorted(rng.sample(_HARDWARE, count))


def _pending(rng: random.Random, lineages: list[_Lineage], status: str, count: int) -> None:
    """New firmware sent to the FIR ahead of its CPL listing (SUBMITTED) or still being written (DRAFT)."""
    for lineage in rng.sample(lineages, count):
        last = lineage.versions[-1]
        major, minor, patch, build = (int(last.firmware[i : i + 2], 16) for i in range(0, 8, 2))
        fw = "".join(f"{p:02X}" for p in _next_firmware(rng, (major, minor, patch, build)))
        day = max(last.day + timedelta(days=30), date(2026, 4, 1)) + timedelta(days=rng.randint(0, 60))
        sources = tuple(v.firmware for v in lineage.versions[-rng.randint(1, 2) :])
        version = _Version(fw, min(day, HORIZON), cpl=None, release=status, upgradable_from=sources)
        lineage.versions.append(version)


def build_plan(scale: int = 1) -> _Plan:
    """Everything the loader writes, decided up front from the seed and the scale alone."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, not {scale}")
    rng = random.Random(f"{SEED}:{scale}")  # noqa: S311 - demo data, not secrets
    plan = _Plan(manufacturers=_fixed_manufacturers())
    ids = {m.manufacturer_id for m in plan.manufacturers}
    names = {m.name for m in plan.manufacturers}
    for i in range(20 * scale - len(plan.manufacturers)):
        brand, name = _manufacturer_name(rng, names)
        # 0x7000 and up: clear of the ZigBee codes meter makers actually hold
        maker_id = _hex4(rng, ids, low=0x7000, high=0xEFFF)
        plan.manufacturers.append(_Manufacturer(maker_id, name, brand, _PROFILES[i % len(_PROFILES)]))
    fixed_models, fixed_lineages = _fixed_models_and_lineages()
    plan.models.extend(fixed_models)
    plan.lineages.extend(fixed_lineages)
    generated: list[_Lineage] = []
    for maker in plan.manufacturers:
        taken = {m.model_id for m in fixed_models if m.manufacturer_id == maker.manufacturer_id}
        count = rng.randint(6, 10) if maker.profile is _HUBS else rng.randint(12, 20)
        for model in _random_models(rng, maker, count - len(taken), taken):
            plan.models.append(model)
            generated.extend(_random_lineage(rng, model, hw) for hw in _hardware_versions(rng))
    _pending(rng, generated, "SUBMITTED", 6 * scale)
    _pending(rng, [g for g in generated if g.versions[-1].cpl is not None], "DRAFT", 2 * scale)
    plan.lineages.extend(generated)
    return plan


# ---------------------------------------------------------------------------------------------
# From plan to rows.

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


def _image_hash(lineage: _Lineage, version: _Version) -> str:
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


def _cpl_rows(plan: _Plan) -> tuple[list[tuple[Any, ...]], dict[Identity, int]]:
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


_NOTES: Final[dict[str, tuple[str, ...]]] = {
    "ESME": (
        "Fixes incorrect rounding of the import energy register on time-of-use tariffs.",
        "Corrects load limiting so that supply is restored after the configured period.",
        "Improves the accuracy of instantaneous active power readings at low loads.",
        "Fixes a supply interruption event not being logged after a load limiting trip.",
    ),
    "GSME": (
        "Extends battery life by reducing HAN wake-ups while the valve is closed.",
        "Fixes the valve staying closed after emergency credit is activated.",
        "Corrects the calorific value applied after a tariff update.",
    ),
    "CHF": (
        "Improves SM WAN reconnection after a mobile network outage.",
        "Fixes alerts being dropped when the GPF mirror is full.",
        "Improves mesh routing resilience in dense multi-occupancy buildings.",
    ),
    "GPF": (
        "Fixes stale gas consumption served to the IHD after the GSME reconnects.",
        "Improves synchronisation of the GSME mirror after a power cut.",
    ),
    "PPMID": (
        "Fixes the display of debt recovery rates on prepayment tariffs.",
        "Simplifies accepting emergency credit from the keypad.",
        "Corrects entry of 20-digit top-up codes (UTRN).",
    ),
    "HCALCS": (
        "Applies the randomised offset to scheduled switching as the specification requires.",
        "Fixes relay state reporting after power restoration.",
    ),
    "IHD": (
        "Improves the readability of the cost-today screen.",
        "Fixes the gas consumption graph showing zero after a Change of Supplier.",
        "Adds display of exported energy for homes with solar generation.",
    ),
    "CAD": (
        "Improves reconnection to the Communications Hub after a hub firmware upgrade.",
        "Fixes the consumption feed stalling after 24 hours of uptime.",
        "Reduces standby power consumption.",
    ),
}
_COMMON_NOTES: Final = (
    "Improves the reliability of joining the HAN after a Change of Supplier.",
    "Reduces the time taken to process Change of Tenancy commands.",
    "Corrects alert timestamps raised immediately after a power restoration.",
    "Improves handling of long GBCS command sequences from the DCC.",
    "Fixes a rare watchdog reset during firmware image activation.",
    "Improves event log retention across power cycles.",
)
_SECURITY_NOTES: Final = (
    "Addresses a vulnerability in the handling of malformed ZigBee frames.",
    "Hardens the verification of signed commands against replay.",
    "Disables a debug interface that could expose key material in production builds.",
    "Addresses a denial-of-service weakness in the GBCS message parser.",
)
_WITHDRAWN_REASONS: Final = (
    "Field reports of devices failing to rejoin the HAN after activation; withdrawn pending investigation.",
    "Regression in tariff switching found during supplier testing; superseded by the next release.",
    "Withdrawn at the manufacturer's request after a Change of Supplier processing fault.",
)
_URGENCIES: Final = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def _notes(rng: random.Random, device_type: str, urgent: bool) -> str:
    pool = _NOTES[device_type] + _COMMON_NOTES
    lead = [_choose(rng, _SECURITY_NOTES)] if urgent else []
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
    rng: random.Random, lineage: _Lineage, version: _Version, numbers: dict[Identity, int]
) -> tuple[Any, ...]:
    identity = (lineage.manufacturer_id, lineage.model_id, lineage.hardware, version.firmware)
    listed = version.cpl is not None
    released = version.day - timedelta(days=rng.randint(0, 21)) if listed else version.day
    urgency = rng.choices(_URGENCIES, weights=(40, 35, 18, 7))[0]
    urgent = urgency in ("HIGH", "CRITICAL")
    published = _at(version.day, 10, rng) if version.release in ("PUBLISHED", "WITHDRAWN") else None
    withdrawn = None
    if version.release == "WITHDRAWN":
        withdrawn = min(_at(HORIZON, 9, rng), _at(version.day, 15, rng) + timedelta(days=rng.randint(3, 120)))
    return (
        *identity, _image_hash(lineage, version), version.release, numbers.get(identity), released,
        _notes(rng, lineage.device_type, urgent), urgency,
        _advisories(rng, urgent, released.year, lineage.manufacturer_id), ACTOR, lineage.manufacturer_id,
        _at(released, 9, rng), published, ACTOR if published else None, withdrawn,
        ACTOR if withdrawn else None, _choose(rng, _WITHDRAWN_REASONS) if withdrawn else None,
    )  # fmt: skip


def _release_rows(
    plan: _Plan, numbers: dict[Identity, int]
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


_FIRST_NAMES: Final = (
    "Aisha", "Ben", "Catriona", "Dev", "Eleanor", "Femi", "Gareth", "Hannah", "Imran", "Joanna",
    "Kieran", "Lowri", "Mohammed", "Niamh", "Owen", "Priya", "Rhys", "Sian", "Tom", "Una", "Vikram",
    "Wendy", "Yusuf", "Zoe",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Ahmed", "Baxter", "Campbell", "Davies", "Evans", "Fraser", "Gill", "Hughes", "Iqbal", "Jones",
    "Kaur", "Lloyd", "MacLeod", "Nowak", "O'Brien", "Patel", "Quinn", "Reid", "Singh", "Thomas",
    "Walsh", "Young",
)  # fmt: skip


def _contact_rows(plan: _Plan) -> list[tuple[Any, ...]]:
    rng = random.Random(f"{SEED}:contacts")  # noqa: S311 - demo data, not secrets
    rows: list[tuple[Any, ...]] = []
    for maker in plan.manufacturers:
        roles = ["FIRMWARE", "SUPPORT", "SECURITY"] + (["FIRMWARE"] if rng.random() < 0.3 else [])
        for position, role in enumerate(roles):
            first, last = _choose(rng, _FIRST_NAMES), _choose(rng, _LAST_NAMES)
            email = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower()) + f"@{maker.slug}.example.com"
            # Ofcom's drama range: 020 7946 0000 to 0999 never rings anyone
            phone = f"+44 20 7946 0{len(rows) * 7 % 1000:03d}"
            rows.append((maker.manufacturer_id, role, f"{first} {last}", email, phone, position))
    return rows


# ---------------------------------------------------------------------------------------------
# Writing.


async def database_is_empty(conn: asyncpg.Connection) -> bool:
    """True when no manufacturer exists: nothing else can exist without one."""
    return bool(await conn.fetchval("select not exists (select 1 from manufacturers)"))


async def _copy(conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: list[Any]) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=list(columns))


async def _release_ids(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> list[int]:
    """The ids COPY assigned, checked row by row against what was sent (the table started empty)."""
    found = await conn.fetch(
        "select id, manufacturer_id, model_id, hardware_version, firmware_version"
        " from firmware_releases order by id"
    )
    if [tuple(r)[1:] for r in found] != [r[:4] for r in rows]:
        raise RuntimeError("firmware_releases changed during the demo load")
    return [int(r["id"]) for r in found]


_CPL_COLUMNS: Final = (
    "number", "status", "manufacturer_id", "model_id", "hardware_version", "firmware_version",
    "device_type", "smets_chts_version", "gbcs_version", "image_hash", "cpl_version", "listed_on",
    "removed_on",
)  # fmt: skip
_RELEASE_COLUMNS: Final = (
    "manufacturer_id", "model_id", "hardware_version", "firmware_version", "image_hash", "status",
    "cpl_entry_number", "release_date", "release_notes", "urgency", "advisories", "submitted_by",
    "submitted_org", "submitted_at", "published_at", "published_by", "withdrawn_at", "withdrawn_by",
    "withdrawn_reason",
)  # fmt: skip


def _summary(plan: _Plan, contacts: int, cpl: list[tuple[Any, ...]], releases: list[tuple[Any, ...]],
             edges: int) -> DemoSummary:  # fmt: skip
    def status(value: str) -> int:
        return sum(1 for r in releases if r[5] == value)

    return DemoSummary(
        manufacturers=len(plan.manufacturers),
        contacts=contacts,
        models=len(plan.models),
        cpl_entries=len(cpl),
        releases=len(releases),
        edges=edges,
        submitted=status("SUBMITTED"),
        removed=sum(1 for r in cpl if r[1] == "REMOVED"),
        withdrawn=status("WITHDRAWN"),
        drafts=status("DRAFT"),
    )


async def _audit(conn: asyncpg.Connection, scale: int, counts: dict[str, int]) -> None:
    """One event per table and one for the whole dataset, so the audit log explains the rows."""
    events = [(table, {"rows": n, "seed": SEED, "scale": scale}) for table, n in counts.items()]
    events.append(("demo", {"seed": SEED, "scale": scale, **counts}))
    await conn.executemany(
        "insert into audit_events (actor, action, entity_type, entity_id, after)"
        " values ($1, 'demo.load', 'dataset', $2, $3::text::jsonb)",
        [(ACTOR, entity, json.dumps(after, sort_keys=True)) for entity, after in events],
    )


async def load_demo_data(
    conn: asyncpg.Connection, *, scale: int = 1, progress: Progress | None = None
) -> DemoSummary:
    """Load the demo dataset in one transaction; `progress(table, step, steps)` follows each table.

    Raises DatabaseNotEmptyError when any manufacturer exists already.
    """
    plan = build_plan(scale)
    cpl, numbers = _cpl_rows(plan)
    releases, sources = _release_rows(plan, numbers)
    contacts = _contact_rows(plan)
    report = progress or (lambda _table, _step, _steps: None)
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", _LOCK_KEY)
        if not await database_is_empty(conn):
            raise DatabaseNotEmptyError(
                "the database already holds manufacturers; demo data needs an empty one"
            )
        manufacturers = [
            (m.manufacturer_id, m.name, f"https://{m.slug}.example.com") for m in plan.manufacturers
        ]
        await _copy(conn, "manufacturers", ("manufacturer_id", "name", "website"), manufacturers)
        report("manufacturers", 1, 7)
        columns = ("manufacturer_id", "role", "name", "email", "phone", "position")
        await _copy(conn, "contacts", columns, contacts)
        report("contacts", 2, 7)
        models = [(m.manufacturer_id, m.model_id, m.name, m.device_type) for m in plan.models]
        await _copy(conn, "device_models", ("manufacturer_id", "model_id", "name", "device_type"), models)
        report("device_models", 3, 7)
        await _copy(conn, "cpl_entries", _CPL_COLUMNS, cpl)
        report("cpl_entries", 4, 7)
        await _copy(conn, "firmware_releases", _RELEASE_COLUMNS, releases)
        report("firmware_releases", 5, 7)
        ids = await _release_ids(conn, releases)
        edges = [(rid, fw) for rid, fws in zip(ids, sources, strict=True) for fw in fws]
        await _copy(conn, "release_upgradable_from", ("release_id", "from_firmware_version"), edges)
        report("release_upgradable_from", 6, 7)
        summary = _summary(plan, len(contacts), cpl, releases, len(edges))
        await _audit(conn, scale, _counts(summary))
        report("audit_events", 7, 7)
    return summary


def _counts(summary: DemoSummary) -> dict[str, int]:
    return {
        "manufacturers": summary.manufacturers,
        "contacts": summary.contacts,
        "device_models": summary.models,
        "cpl_entries": summary.cpl_entries,
        "firmware_releases": summary.releases,
        "release_upgradable_from": summary.edges,
    }


async def demo_identities(conn: asyncpg.Connection, n: int) -> list[Identity]:
    """`n` distinct CPL identities, Current and Removed, spread over makers in a fixed order."""
    rows = await conn.fetch(
        "select manufacturer_id, model_id, hardware_version, firmware_version from cpl_entries"
        " order by md5(number::text) limit $1",
        n,
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]
