"""SECAS's report at the edge: resolvers.reports' rows written as one xlsx workbook, a sheet per question."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from resolvers.reports import SecasReport
from spreadsheets.atomic import replaced_atomically
from spreadsheets.cells import xlsx_row

SHEETS = {
    "No FIR record": ("Manufacturer", "Entry", "Model", "Hardware", "Firmware", "Device type", "Listed on"),
    "Cannot publish": ("Manufacturer", "Release", "Model", "Hardware", "Firmware", "Reason", "Entry"),
    "No firmware contact": ("Manufacturer", "Name"),
}


def report_rows(report: SecasReport) -> dict[str, list[tuple[object, ...]]]:
    """Each sheet's rows, in the order the queries return them (by manufacturer)."""
    return {
        "No FIR record": [
            (
                e.manufacturer_id,
                e.number,
                e.model_id,
                e.hardware_version,
                e.firmware_version,
                e.device_type,
                e.listed_on,
            )
            for e in report.unrecorded_entries
        ],
        "Cannot publish": [
            (
                b.release.manufacturer_id,
                b.release.id,
                b.release.model_id,
                b.release.hardware_version,
                b.release.firmware_version,
                b.reason,
                b.entry_number,
            )
            for b in report.blocked_submissions
        ],
        "No firmware contact": [
            (m.manufacturer_id, m.name) for m in report.manufacturers_without_firmware_contact
        ],
    }


def write_report(path: Path, report: SecasReport) -> None:
    """The workbook appears complete or not at all (written beside `path`, renamed into place)."""
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"the report is an .xlsx workbook, not {path.suffix!r}")
    workbook = openpyxl.Workbook(write_only=True)
    for title, found in report_rows(report).items():
        sheet = workbook.create_sheet(title)
        sheet.append(list(SHEETS[title]))
        for row in found:
            sheet.append(xlsx_row(sheet, list(row)))
    with replaced_atomically(path) as partial:
        workbook.save(partial)
