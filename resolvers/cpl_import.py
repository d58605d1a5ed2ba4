"""CPL import: good rows committed in one transaction, bad rows reported, waiting releases published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date

from loaders import cpl_import as sql
from loaders import listing_order
from loaders.db import Db
from resolvers import cpl_rows as wb
from resolvers.cpl_rows import CplRow, CplSource, Progress, RowProblem

BULK_CHANGE = 1000  # changed entries beyond which table statistics are refreshed with the import
STAGE_BATCH = 5000  # rows per staging statement: large enough to amortise, small enough to stream

# staged column -> the CPL column a human will look for in the file
_CPL_COLUMN = {
    "number": wb.NUMBER,
    "manufacturer_id": wb.MANUFACTURER,
    "model_id": wb.MODEL,
    "hardware_version": wb.HW_VERSION,
    "firmware_version": wb.FIRMWARE,
    "image_hash": wb.IMAGE_HASH,
}


@dataclass(frozen=True)
class ImportReport:
    rows_read: int
    added: int
    updated: int
    removed: int  # newly Removed: Current before this import
    unchanged: int
    published: int  # SUBMITTED releases this import published
    problems: list[RowProblem]
    cpl_version: str | None
    # rows imported all the same, whose listing leaves an upgrade edge against CPL listing order
    backward_edges: list[RowProblem] = field(default_factory=list)

    def counts(self) -> dict[str, object]:
        lists = ("problems", "cpl_version", "backward_edges")
        counts = {k: v for k, v in asdict(self).items() if k not in lists}
        return counts | {"problems": len(self.problems), "backward_edges": len(self.backward_edges)}


async def import_cpl(
    db: Db,
    source: CplSource,
    *,
    actor: str,
    organisation: str | None,
    progress: Progress | None = None,
    today: date | None = None,
) -> ImportReport:
    """Import one CPL (the edge opens the file). Raises CplFileError, nothing written, when it is no CPL."""
    who = sql.Actor(actor, organisation)
    problems: list[RowProblem] = []
    versions: Counter[str] = Counter()
    with source.open(progress) as reader:
        async with db.transaction() as tx:
            await sql.create_stage(tx)
            for batch in _batches(reader, problems, versions):
                await sql.stage_rows(tx, batch)
            await sql.finish_staging(tx)
            problems += [_conflict_problem(c) for c in await sql.reject_conflicts(tx)]
            await sql.create_missing_models(tx, who)
            counts = await sql.apply_stage(tx, today=today or date.today(), who=who)
            if counts.added + counts.updated + counts.removed >= BULK_CHANGE:
                await sql.refresh_statistics(tx)
            published = await sql.publish_matching_submissions(
                tx, numbers=None, actor=actor, organisation=organisation
            )
            report = ImportReport(
                rows_read=reader.rows_read,
                added=counts.added,
                updated=counts.updated,
                removed=counts.removed,
                unchanged=counts.unchanged,
                published=len(published),
                problems=sorted(problems, key=lambda p: p.row_number),
                cpl_version=_main_version(versions),
                backward_edges=[_backward(e) for e in await listing_order.backward_edges_in_stage(tx)],
            )
            summary = report.counts() | {"file": source.name}
            await sql.record_import(
                tx, cpl_version=report.cpl_version or source.name, counts=summary, who=who
            )
    return report


def _batches(
    items: Iterable[CplRow | RowProblem], problems: list[RowProblem], versions: Counter[str]
) -> Iterator[list[CplRow]]:
    """Good rows in staging batches; problems and CPL versions are collected on the way."""
    batch: list[CplRow] = []
    for item in items:
        if isinstance(item, RowProblem):
            problems.append(item)
            continue
        if item.cpl_version:
            versions[item.cpl_version] += 1
        batch.append(item)
        if len(batch) >= STAGE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _main_version(versions: Counter[str]) -> str | None:
    """The file's CPL version: one value in a real file; the commonest if a file mixes them."""
    common = versions.most_common(1)
    return common[0][0] if common else None


def _conflict_problem(c: sql.StageConflict) -> RowProblem:
    if c.field == "number":
        reason = f"this device identity is already listed as entry {c.existing_number}"
    else:
        reason = (
            f"entry {c.number} already lists {c.field} {c.existing_value}; a CPL entry's device identity"
            " and image hash never change"
        )
    return RowProblem(c.row_number, _CPL_COLUMN[c.field], reason)


def _backward(e: listing_order.BackwardEdge) -> RowProblem:
    source = "is not on the CPL" if e.source_entry is None else f"is listed later, as entry {e.source_entry}"
    reason = (
        f"release {e.release_id} on entry {e.entry} is upgradable from firmware {e.source_version}, which"
        f" {source}: an upgrade runs from an earlier-listed CPL entry to a later one"
    )
    return RowProblem(e.row_number, wb.NUMBER, reason)
