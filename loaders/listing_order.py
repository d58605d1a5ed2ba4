"""SQL that checks upgrade edges against CPL listing order: the edges an import's rows leave running backwards."""

from __future__ import annotations

from dataclasses import dataclass

from loaders.db import Db
from loaders.vocabulary import ReleaseStatus


@dataclass(frozen=True, slots=True)
class BackwardEdge:
    """A live release on `entry` upgradable from `source_version`, listed later (or not at all)."""

    row_number: int  # the staged row that lists either end
    release_id: int
    entry: int
    source_version: str
    source_entry: int | None


# An edge runs backwards when its source is listed after the release's own entry, or not listed at
# all (it will be listed after every entry there is). Only edges with an end in this import's stage.
_STAGED_SQL = f"""
select coalesce(st.row_number, ss.row_number) as row_number, r.id as release_id, t.number as entry,
  u.from_firmware_version as source_version, s.number as source_entry
from release_upgradable_from u
join firmware_releases r on r.id = u.release_id and r.status <> '{ReleaseStatus.WITHDRAWN}'
join cpl_entries t
  on (t.manufacturer_id, t.model_id, t.hardware_version, t.firmware_version)
   = (r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version)
left join cpl_entries s
  on (s.manufacturer_id, s.model_id, s.hardware_version, s.firmware_version)
   = (r.manufacturer_id, r.model_id, r.hardware_version, u.from_firmware_version)
left join cpl_stage st on st.number = t.number
left join cpl_stage ss on ss.number = s.number
where (s.number is null or s.number > t.number)
  and (st.row_number is not null or ss.row_number is not null)
order by 1, r.id, u.from_firmware_version
"""


async def backward_edges_in_stage(db: Db) -> list[BackwardEdge]:
    """Run inside the import's transaction, after its rows are applied and submissions published."""
    return [
        BackwardEdge(r["row_number"], r["release_id"], r["entry"], r["source_version"], r["source_entry"])
        for r in await db.fetch(_STAGED_SQL)
    ]
