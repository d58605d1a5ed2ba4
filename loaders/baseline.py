"""SQL for the benchmark baseline: a device's CPL entry and published lineage in one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
import orjson

from loaders.rows import ReleaseRow
from loaders.vocabulary import ReleaseStatus

# One round trip: the CPL entry of the identity and every published release of its model and
# hardware version, aggregated into one JSON array so that an absent CPL entry or an empty lineage
# still yields exactly one row. Only PUBLISHED releases: lineage, latest and upgrade steps never
# use any other status for a fir:read caller, so the rest need not leave the database.
DEVICE_SQL = f"""
with cpl as (
    select number, status::text as status from cpl_entries
    where manufacturer_id = $1 and model_id = $2 and hardware_version = $3 and firmware_version = $4
), published as (
    select r.id, r.firmware_version, r.release_date, r.cpl_entry_number, c.status::text as cpl_status,
           coalesce((select array_agg(u.from_firmware_version order by u.from_firmware_version)
                     from release_upgradable_from u where u.release_id = r.id), '{{}}') as sources
    from firmware_releases r left join cpl_entries c on c.number = r.cpl_entry_number
    where r.manufacturer_id = $1 and r.model_id = $2 and r.hardware_version = $3 and r.status = '{ReleaseStatus.PUBLISHED}'
)
select (select number from cpl) as cpl_number, (select status from cpl) as cpl_status,
       -- the device's own firmware withdrawn after publication, with no published record of it
       (not exists (select from published where firmware_version = $4)
        and exists (select from firmware_releases w where (w.manufacturer_id, w.model_id,
          w.hardware_version, w.firmware_version) = ($1, $2, $3, $4)
          and w.status = '{ReleaseStatus.WITHDRAWN}' and w.published_at is not null)) as withdrawn,
       (select json_agg(json_build_array(id, firmware_version, release_date, cpl_entry_number, cpl_status,
                                         sources) order by id) from published) as releases
"""


# Columns the lineage query never reads are filled with neutral values, so that the rows can go
# through resolvers.paths unchanged: the baseline must compute latest and paths by the same rules.
_NEVER_READ: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class BaselineDevice:
    cpl_number: int | None
    cpl_status: str | None
    withdrawn: bool  # the device's firmware: its FIR record is withdrawn (resolvers.devices.analyse)
    releases: list[ReleaseRow]


def _release(model_key: tuple[str, str, str], item: list[Any]) -> ReleaseRow:
    rid, version, day, number, cpl_status, sources = item
    release_date = dt.date.fromisoformat(day) if day else None
    return ReleaseRow(
        rid, *model_key, version, "", ReleaseStatus.PUBLISHED, number, cpl_status, release_date, None, None, (),
        tuple(sources), None, None, _NEVER_READ, None, None, None, None,
    )  # fmt: skip


def _releases(model_key: tuple[str, str, str], raw: Any) -> list[ReleaseRow]:
    # json_agg arrives decoded when the pool's json codec is installed (loaders.db), as text otherwise.
    items = orjson.loads(raw) if isinstance(raw, str) else raw
    return [_release(model_key, item) for item in items or ()]


async def device(pool: asyncpg.Pool, identity: tuple[str, str, str, str]) -> BaselineDevice:
    row = await pool.fetchrow(DEVICE_SQL, *identity)
    assert row is not None  # the statement always yields one row
    releases = _releases(identity[:3], row["releases"])
    return BaselineDevice(row["cpl_number"], row["cpl_status"], row["withdrawn"], releases)
