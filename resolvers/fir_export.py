"""The FIR spreadsheet's rows: the CPL's 13 columns plus the published FIR record, from one snapshot.

The file formats (xlsx, csv) are written at the edge, spreadsheets/fir_files.py, from these rows.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import orjson

from loaders import fir_export as sql
from loaders import tlog
from loaders.data_version import current_version
from loaders.db import Db
from loaders.tlog import CheckpointRow
from loaders.vocabulary import CplStatus, EntityType
from resolvers.cpl_codes import CPL_DEVICE_TYPE_NAMES
from resolvers.cpl_rows import COLUMNS, Progress
from resolvers.log_proofs import Proof, checkpointed_proofs

FIR_COLUMNS: tuple[str, ...] = (
    "FIR.release_date",
    "FIR.release_notes",
    "FIR.upgradable_from_entries",
    "FIR.urgency",
    "FIR.advisories",
    "FIR.firmware_contact",
    "FIR.data_version",  # the data version of the snapshot the file was written from
    # the transparency log (README: Verifying FIR data): the entry's newest leaf, its inclusion proof
    # against the checkpoint read in the same snapshot, and that checkpoint (the same in every row)
    "FIR.log_leaf",
    "FIR.log_proof",
    "FIR.log_checkpoint",
    # the other logged facts the row shows, proven against the same checkpoint: the release (its id
    # when the row shows it; the newest leaf of the identity's published, else newest, release) and the
    # contact set
    "FIR.release_id",
    "FIR.release_log_leaf",
    "FIR.release_log_proof",
    "FIR.contacts_log_leaf",
    "FIR.contacts_log_proof",
)
HEADER: tuple[str, ...] = COLUMNS + FIR_COLUMNS
CHUNK = 2000  # entries per query: bounded memory whatever the CPL's size
_STATUS_NAMES = {status.value: status.value.capitalize() for status in CplStatus}
LIST_SEPARATOR = ", "


class Sheet(Protocol):
    """Where the rows go: a file format at the edge."""

    def write(self, cells: list[object]) -> None: ...


@dataclass(frozen=True, slots=True)
class FirSnapshot:
    """One consistent read of the FIR: its entry count, the data version it reflects, and its rows."""

    db: Db  # bound to the snapshot's read-only transaction
    total: int
    data_version: int
    checkpoint: CheckpointRow | None

    async def rows(self, progress: Progress | None = None) -> AsyncIterator[list[object]]:
        """One row per CPL entry in HEADER order, by entry number; chunked, so memory stays bounded."""
        written = after = 0
        while chunk := await sql.export_chunk(self.db, after=after, limit=CHUNK):
            entries, releases, contacts = await self._proofs(chunk)
            for row, entry, release, contact in zip(chunk, entries, releases, contacts, strict=True):
                yield (
                    fir_cells(row, self.data_version)
                    + log_cells(entry)
                    + [row.release_id, *proof_cells(release), *proof_cells(contact)]
                )
            written += len(chunk)
            after = chunk[-1].number
            if progress is not None:
                progress(written, self.total)
        if progress is not None and written == 0:
            progress(0, 0)

    async def _proofs(self, chunk: list[sql.FirExportRow]) -> tuple[list[Proof | None], ...]:
        """The chunk's entries', releases' and contact sets' newest leaves, proven against the checkpoint."""
        return (
            await _proofs(self, EntityType.CPL_ENTRY, [str(r.number) for r in chunk]),
            await _proofs(self, EntityType.FIRMWARE_RELEASE, [_text(r.latest_release_id) for r in chunk]),
            await _proofs(self, EntityType.MANUFACTURER, [r.manufacturer_id for r in chunk]),
        )


async def _proofs(snap: FirSnapshot, entity_type: str, ids: list[str | None]) -> list[Proof | None]:
    """One proof per id (None for None), each distinct entity proven once."""
    wanted = list(dict.fromkeys(i for i in ids if i is not None))
    proofs = await checkpointed_proofs(snap.db, snap.checkpoint, entity_type, wanted)
    found = dict(zip(wanted, proofs, strict=True))
    return [None if i is None else found[i] for i in ids]


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


@contextlib.asynccontextmanager
async def snapshot(db: Db) -> AsyncIterator[FirSnapshot]:
    async with db.transaction() as tx:
        total = await sql.begin_snapshot(tx)
        # read inside the snapshot: exactly the version its rows reflect, whatever commits meanwhile
        yield FirSnapshot(tx, total, await current_version(tx), await tlog.latest_checkpoint(tx))


async def export_rows(db: Db, sheet: Sheet, progress: Progress | None = None) -> int:
    """Write one row per CPL entry to `sheet`, in entry-number order, from one snapshot; rows written."""
    written = 0
    async with snapshot(db) as snap:
        async for cells in snap.rows(progress):
            sheet.write(cells)
            written += 1
    return written


def version_octet(hardware_version: str) -> str:
    """The CPL prints the version octet without its leading zero (`0`, `1`) ..."""
    return hardware_version[:2].lstrip("0") or "0"


def revision_octet(hardware_version: str) -> str:
    """... and the revision octet with both digits (`AC`, `01`)."""
    return hardware_version[2:]


def firmware_contact(row: sql.FirExportRow) -> str | None:
    return contact_text(row.contact_name, row.contact_email, row.contact_phone)


def contact_text(name: str | None, email: str | None, phone: str | None) -> str | None:
    """`name <email> phone`, leaving out what the manufacturer has not given."""
    text = " ".join(p for p in (name, f"<{email}>" if email else None, phone) if p)
    return text or None


def log_cells(proof: Proof | None) -> list[object]:
    """The entry's three log columns: empty until its newest leaf is signed."""
    return [*proof_cells(proof), None if proof is None else proof.checkpoint]


def proof_cells(proof: Proof | None) -> list[object]:
    """A leaf and its inclusion proof (JSON: leafIndex, treeSize, inclusionPath), or two empty cells."""
    if proof is None:
        return [None, None]
    path = [base64.b64encode(h).decode() for h in proof.inclusion_path]
    encoded = orjson.dumps(
        {"leafIndex": proof.leaf_index, "treeSize": proof.tree_size, "inclusionPath": path}
    )
    return [proof.leaf.decode(), encoded.decode()]


def fir_cells(row: sql.FirExportRow, data_version: int) -> list[object]:
    """One entry in HEADER order up to FIR.data_version; None is an empty cell."""
    return [
        row.cpl_version,
        row.number,
        _STATUS_NAMES[row.status],
        CPL_DEVICE_TYPE_NAMES[row.device_type],
        row.manufacturer_id,
        row.model_id,
        version_octet(row.hardware_version),
        revision_octet(row.hardware_version),
        row.model_id + row.hardware_version,
        row.firmware_version,
        row.smets_chts_version,
        row.gbcs_version,
        row.image_hash,
        row.release_date,
        row.release_notes,
        LIST_SEPARATOR.join(str(n) for n in row.upgradable_from) or None,
        row.urgency,
        LIST_SEPARATOR.join(row.advisories) or None,
        firmware_contact(row),
        data_version,
    ]
