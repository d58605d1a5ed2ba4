"""The SQL that representative queries issue, snapshotted: a changed statement shows up in review.

Refresh after an intended change: FIR_SNAPSHOT_UPDATE=1 .venv/bin/pytest tests/loaders/test_sql_snapshots.py
then read the diff of tests/loaders/sql/ before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from schema.schema import build_schema
from tests.builders import SUPPLIER, execute
from tests.schema.test_statement_counts import DEVICE, FLEET, METERS, PAGE
from tests.schema.test_statement_counts import catalogue as catalogue  # the fixture

SNAPSHOTS = Path(__file__).parent / "sql"
IDENTITIES = [
    {"manufacturerId": "1001", "modelId": "0001", "hardwareVersion": "0001", "firmwareVersion": "00000001"},
    {"manufacturerId": "1002", "modelId": "0003", "hardwareVersion": "0001", "firmwareVersion": "00000009"},
]
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "device": (DEVICE, {}),
    "fleet_status": (FLEET, {"devices": IDENTITIES}),
    "cpl_entries_page": (PAGE, {"first": 5}),
    "entities": (
        METERS,
        {"reps": [{"__typename": "DeviceFirmwareStatus", "identity": i} for i in IDENTITIES]},
    ),
}


def rendered(statements: list[str]) -> str:
    """In text order: the order they are issued in depends on which concurrent answer arrives first
    (two loaders dispatched in the same loop turn), and a snapshot must not."""
    return "".join(f"-- statement {n}\n{sql.strip()};\n\n" for n, sql in enumerate(sorted(statements), 1))


@pytest.mark.parametrize("name", sorted(CASES))
async def test_the_sql_a_query_issues_is_the_snapshot(pool: asyncpg.Pool, catalogue: None, name: str) -> None:
    query, variables = CASES[name]
    result = await execute(build_schema(), pool, query, SUPPLIER, **variables)
    assert result.errors is None, result.errors
    issued = rendered(result.context.loaders.db.log.statements)
    snapshot = SNAPSHOTS / f"{name}.sql"
    if os.environ.get("FIR_SNAPSHOT_UPDATE") == "1":
        snapshot.write_text(issued)
    assert snapshot.exists(), f"no snapshot {snapshot.name}: run with FIR_SNAPSHOT_UPDATE=1"
    assert issued == snapshot.read_text(), f"{name} issues other SQL than {snapshot}"
