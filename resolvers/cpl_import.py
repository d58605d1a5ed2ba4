"""CPL import: good rows committed in one transaction, bad rows reported, waiting releases published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date

from loaders import cpl_import as sql
from loaders import listing_order
from loaders.audit import Actor
from loaders.db import Db
from loaders.rows import CplRow
from loaders.vocabulary import AuditAction, EntityType
from resolvers import cpl_listing as listing
from resolvers import cpl_rows as wb
from resolvers.cpl_rows import CplSource, Progress, RowProblem
from resolvers.unit_of_work import Change, unit_of_work

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
    "issue": wb.VERSION,
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
    problems: list[RowProblem] = []
    versions: Counter[str] = Counter()
    with source.open(progress) as reader:
        async with unit_of_work(db, Actor(actor, organisation)) as work:
            await listing.begin(work)
            for batch in _batches(reader, problems, versions):
                await listing.stage(work, batch, today or date.today())
            listed = await listing.apply(work, publish_for=None)
            problems += [_conflict_problem(c) for c in listed.conflicts]
            if len(listed.added) + listed.updated + listed.removed >= BULK_CHANGE:
                await sql.refresh_statistics(work.tx)
            report = ImportReport(
                rows_read=reader.rows_read,
                added=len(listed.added),
                updated=listed.updated,
                removed=listed.removed,
                unchanged=listed.unchanged,
                published=len(listed.published),
                problems=sorted(problems, key=lambda p: p.row_number),
                cpl_version=_main_version(versions),
                backward_edges=[_backward(e) for e in await listing_order.backward_edges_in_stage(work.tx)],
            )
            summary = report.counts() | {"file": source.name}
            document = report.cpl_version or source.name
            work.record(Change(AuditAction.CPL_IMPORT, EntityType.CPL_DOCUMENT, document, None, summary))
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
    elif c.field == "issue":
        reason = (
            f"entry {c.number} was last stated by a newer CPL issue ({c.existing_value}) than this row's:"
            " an older issue does not undo a newer one"
        )
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
