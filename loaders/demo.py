"""Loading the demo dataset (plan: demo_plan, rows: demo_rows): one COPY per table in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from loaders.demo_plan import ACTOR, SEED, SHOWCASE, Identity, Plan, build_plan
from loaders.demo_rows import contact_rows, cpl_rows, release_rows
from loaders.vocabulary import CplStatus, ReleaseStatus

# the package's face: callers import these from loaders.demo
__all__ = [
    "SHOWCASE",
    "DatabaseNotEmptyError",
    "DemoSummary",
    "Identity",
    "build_plan",
    "database_is_empty",
    "demo_identities",
    "load_demo_data",
]

# Two gateway replicas started together on an empty database must not both load.
_LOCK_KEY: Final = 0x46495244454D4F

Progress = Callable[[str, int, int], None]


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


def _summary(plan: Plan, contacts: int, cpl: list[tuple[Any, ...]], releases: list[tuple[Any, ...]],
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
        submitted=status(ReleaseStatus.SUBMITTED),
        removed=sum(1 for r in cpl if r[1] == CplStatus.REMOVED),
        withdrawn=status(ReleaseStatus.WITHDRAWN),
        drafts=status(ReleaseStatus.DRAFT),
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
    cpl, numbers = cpl_rows(plan)
    releases, sources = release_rows(plan, numbers)
    contacts = contact_rows(plan)
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
