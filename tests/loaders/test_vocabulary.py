"""One vocabulary: the SQL enums and the GraphQL enums are the StrEnums of loaders/vocabulary.py, and only those."""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

import asyncpg
import pytest
from graphql import GraphQLEnumType

from loaders import vocabulary
from schema.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
SQL_ENUMS: dict[str, type[StrEnum]] = {
    "device_type": vocabulary.DeviceType,
    "cpl_status": vocabulary.CplStatus,
    "release_status": vocabulary.ReleaseStatus,
    "urgency": vocabulary.Urgency,
    "contact_role": vocabulary.ContactRole,
    "change_kind": vocabulary.ChangeKind,
}
GRAPHQL_ENUMS = {enum.__name__: enum for enum in SQL_ENUMS.values()}
# Words that can only mean a status: a literal one outside the vocabulary is a second copy of it.
STATUSES = {*vocabulary.CplStatus, *vocabulary.ReleaseStatus}
_SQL_STATUS = re.compile(r"'(" + "|".join(sorted(STATUSES)) + r")'")
NOT_CODE = {"loaders/vocabulary.py"}


async def test_sql_enums_are_the_vocabulary(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        found = await conn.fetch(
            "select t.typname, array_agg(e.enumlabel order by e.enumsortorder) as labels"
            " from pg_enum e join pg_type t on t.oid = e.enumtypid group by t.typname"
        )
    assert {r["typname"]: list(r["labels"]) for r in found} == {
        name: [m.value for m in enum] for name, enum in SQL_ENUMS.items()
    }


def test_graphql_enums_are_the_vocabulary() -> None:
    types = build_schema()._schema.type_map
    for name, enum in GRAPHQL_ENUMS.items():
        graphql_type = types[name]
        assert isinstance(graphql_type, GraphQLEnumType)
        assert list(graphql_type.values) == [m.name for m in enum], name


def _sources() -> list[Path]:
    files = [
        p
        for layer in ("gateway", "spreadsheets", "schema", "resolvers", "loaders")
        for p in (ROOT / layer).rglob("*.py")
    ]
    return [p for p in files if p.relative_to(ROOT).as_posix() not in NOT_CODE]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_status_is_written_out_of_the_vocabulary(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    literals = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    bare = [(n.lineno, n.value) for n in literals if n.value in STATUSES or _SQL_STATUS.search(n.value)]
    assert bare == [], f"use loaders.vocabulary instead of {bare}"
