"""`fir verify export`: every logged fact each row of an exported FIR spreadsheet shows, against the signed log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from loaders.vocabulary import ContactRole, ReleaseStatus
from resolvers.checkpoints import VerifierKey
from resolvers.cpl_rows import CONCATENATED, FIRMWARE, IMAGE_HASH, MANUFACTURER, MODEL, NUMBER, STATUS
from resolvers.fir_export import LIST_SEPARATOR, contact_text
from resolvers.log_verify import check_inclusion, disagreements, orjson_loads

Row = Mapping[str, object]
Identity = tuple[str, str, str, str]  # manufacturer, model, hardware version, firmware version


def check_export(key: VerifierKey, rows: Iterable[Row]) -> tuple[int, list[str], list[str]]:
    """How many rows were checked, the problems and the unproven facts, each naming its row and fact.

    Each row's CPL entry, the release it shows (identity, image hash, status, upgradable-from) and
    its manufacturer's firmware contact must each be a leaf of the right type, about that row, in
    the signed log the file states, and say what the log says; a published release that the log has
    for the row's firmware and image hash must be shown. A row whose release or contacts log columns
    are empty, while it shows no release or contact, is unproven: the log (which an offline verifier
    does not have) may hold a release or contact set the file hides, and nothing in the file says.
    """
    table = list(rows)
    identities = {_text(r.get(NUMBER)): _identity(r) for r in table}
    problems: list[str] = _one_snapshot(table)
    unproven: list[str] = []
    for n, row in enumerate(table, start=2):  # row 1 is the header
        where = f"row {n} (CPL entry {row.get(NUMBER)})"
        problems += [f"{where}: {p}" for p in _check_row(key, row, identities)]
        unproven += [f"{where}: {p}" for p in _unproven(row)]
    return len(table), problems, unproven


def _one_snapshot(table: list[Row]) -> list[str]:
    """An export is one snapshot: one signed checkpoint and one data version in every row. Rows pasted
    in from an older export (a release since withdrawn, shown as published) are each in some signed
    log, and only this says that the file mixes two. No rows at all is no FIR spreadsheet."""
    if not table:
        return ["file: no rows (not an exported FIR spreadsheet)"]
    found = []
    for column, what in (("FIR.log_checkpoint", "signed checkpoints"), ("FIR.data_version", "data versions")):
        values = {_text(r.get(column)) for r in table} - {""}
        if len(values) > 1:
            shown = (
                sorted(_checkpoint_size(v) for v in values)
                if column == "FIR.log_checkpoint"
                else sorted(values)
            )
            found.append(
                f"file: rows state {len(values)} different {what} ({', '.join(shown)}): rows from another export"
            )
    return found


def _checkpoint_size(note: str) -> str:
    lines = note.split("\n")
    return f"size {lines[1]}" if len(lines) > 1 else "unreadable"


def _check_row(key: VerifierKey, row: Row, identities: Mapping[str, Identity]) -> list[str]:
    note = _text(row.get("FIR.log_checkpoint"))
    if not note:
        return ["not in a signed checkpoint (empty log columns)"]
    return [*_entry(key, row, note), *_release(key, row, note, identities), *_contacts(key, row, note)]


def _unproven(row: Row) -> list[str]:
    """The facts a row could hide by emptying their log columns: not a problem the file can show."""
    if not _text(row.get("FIR.log_checkpoint")):
        return []  # the whole row is already a problem
    found = []
    if not _text(row.get("FIR.release_id")) and not _columns(row, "FIR.release_log"):
        found.append(
            "release: not verified (empty release log columns: whether the log has one cannot be known offline)"
        )
    if not _text(row.get("FIR.firmware_contact")) and not _columns(row, "FIR.contacts_log"):
        found.append(
            "contacts: not verified (empty contacts log columns: whether the log has them cannot be known offline)"
        )
    return found


def _columns(row: Row, column: str) -> bool:
    return bool(_text(row.get(f"{column}_leaf")) or _text(row.get(f"{column}_proof")))


def _proven(
    key: VerifierKey, row: Row, note: str, column: str, kind: str
) -> tuple[Mapping[str, Any] | None, str | None]:
    """The `kind` leaf in `{column}_leaf`, once `{column}_proof` proves it in the signed log; or the problem."""
    leaf, proof_text = _text(row.get(f"{column}_leaf")), _text(row.get(f"{column}_proof"))
    if not leaf and not proof_text:
        return None, None
    if not leaf or not proof_text:
        return None, f"{column}_leaf and {column}_proof must both be given"
    problem = check_inclusion(key, {**orjson_loads(proof_text), "checkpoint": note}, leaf.encode())
    if problem:
        return None, problem
    found = orjson_loads(leaf)
    if found.get("type") != kind:
        return None, f"the signed log's leaf is of type {found.get('type')!r}, not {kind!r}"
    return found, None


def _about(leaf: Mapping[str, Any], identity: tuple[str, ...]) -> str | None:
    """A problem if the leaf states another manufacturer (and model, hardware, firmware) than the row."""
    keys = ("manufacturer_id", "model_id", "hardware_version", "firmware_version")[: len(identity)]
    stated = tuple(_text(leaf.get(k)) for k in keys)
    return (
        None
        if stated == identity
        else f"the signed log's leaf is about {'/'.join(stated)}, not {'/'.join(identity)}"
    )


def _entry(key: VerifierKey, row: Row, note: str) -> list[str]:
    leaf, problem = _proven(key, row, note, "FIR.log", "cpl_entry")
    if problem or leaf is None:
        return [problem or "not in a signed checkpoint (empty log columns)"]
    manufacturer, model, hardware, firmware = _identity(row)
    shown = {
        "number": row.get(NUMBER),
        "status": _text(row.get(STATUS)).upper(),
        "manufacturerId": manufacturer,
        "modelId": model,
        "hardwareVersion": hardware,
        "firmwareVersion": firmware,
        "imageHash": row.get(IMAGE_HASH),
    }
    return disagreements(shown, leaf)


def _release(key: VerifierKey, row: Row, note: str, identities: Mapping[str, Identity]) -> list[str]:
    shown_id = _text(row.get("FIR.release_id"))
    leaf, problem = _proven(key, row, note, "FIR.release_log", "release")
    if problem:
        return [f"release: {problem}"]
    if leaf is None:
        return [f"release {shown_id}: not in a signed checkpoint"] if shown_id else []  # else unproven
    if not shown_id:  # the leaf must be this row's, or any other published release would hide it
        other = _about(leaf, _identity(row))
        return [f"release: {other}"] if other else _hidden(row, leaf)
    manufacturer, model, hardware, firmware = _identity(row)
    shown = {
        "id": shown_id,
        "manufacturerId": manufacturer,
        "modelId": model,
        "hardwareVersion": hardware,
        "firmwareVersion": firmware,
        "imageHash": row.get(IMAGE_HASH),
        "status": ReleaseStatus.PUBLISHED,  # the row shows only a published release
    }
    found = [f"release {shown_id}: {p}" for p in disagreements(shown, leaf)]
    return found + [f"release {shown_id}: {p}" for p in _upgradable(row, leaf, identities)]


def _hidden(row: Row, leaf: Mapping[str, Any]) -> list[str]:
    """A row without a release whose firmware the log says is published with the entry's image hash."""
    if leaf.get("status") != ReleaseStatus.PUBLISHED or leaf.get("image_hash") != row.get(IMAGE_HASH):
        return []
    return [
        f"the signed log says release {leaf.get('id')} is published with this image hash, but the row shows none"
    ]


def _upgradable(row: Row, leaf: Mapping[str, Any], identities: Mapping[str, Identity]) -> list[str]:
    """The entries the row prints are the logged upgradable-from versions that have an entry in the file."""
    cell = _text(row.get("FIR.upgradable_from_entries"))
    printed = {n.strip() for n in cell.split(LIST_SEPARATOR.strip()) if n.strip()}
    said = {identities[n][3] if n in identities else f"entry {n}" for n in printed}
    here = _identity(row)[:3]
    listed = {i[3] for i in identities.values() if i[:3] == here}
    logged = {str(v) for v in leaf.get("upgradable_from") or []} & listed
    if said == logged:
        return []
    return [f"upgradable from {sorted(said)} but the signed log says {sorted(logged)}"]


def _contacts(key: VerifierKey, row: Row, note: str) -> list[str]:
    shown = _text(row.get("FIR.firmware_contact")) or None
    leaf, problem = _proven(key, row, note, "FIR.contacts_log", "contacts")
    if problem:
        return [f"contacts: {problem}"]
    if leaf is None:
        return ["firmware contact: not in a signed checkpoint"] if shown else []  # else unproven
    if problem := _about(leaf, _identity(row)[:1]):
        return [f"contacts: {problem}"]
    firmware = [c for c in leaf.get("contacts") or [] if c.get("role") == ContactRole.FIRMWARE]
    logged = (
        contact_text(firmware[0].get("name"), firmware[0].get("email"), firmware[0].get("phone"))
        if firmware
        else None
    )
    return [] if shown == logged else [f"firmware contact is {shown!r} but the signed log says {logged!r}"]


def _identity(row: Row) -> Identity:
    model, concatenated = _text(row.get(MODEL)), _text(row.get(CONCATENATED))
    return (_text(row.get(MANUFACTURER)), model, concatenated.removeprefix(model), _text(row.get(FIRMWARE)))


def _text(value: object) -> str:
    return "" if value is None else str(value)
