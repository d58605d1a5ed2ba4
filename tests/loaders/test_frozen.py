"""@frozen rows: read-only to the type checker; equal, hashable and copyable as frozen dataclasses were."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from pathlib import Path

from mypy import api

from loaders import rows
from loaders.frozen import frozen

ROOT = Path(__file__).resolve().parents[2]


def _release(**changes: object) -> rows.ReleaseRow:
    fields = {f.name: i for i, f in enumerate(dataclasses.fields(rows.ReleaseRow))}
    return rows.ReleaseRow(**(fields | changes))  # type: ignore[arg-type]


def test_assigning_a_field_of_a_row_is_a_type_error(tmp_path: Path) -> None:
    snippet = tmp_path / "assign.py"
    snippet.write_text(
        "from loaders.rows import ReleaseRow\ndef f(r: ReleaseRow) -> None:\n    r.status = 'PUBLISHED'\n"
    )
    out, _, status = api.run(
        ["--strict", "--follow-imports=silent", "--no-incremental", "--cache-dir=/dev/null", str(snippet)]
    )
    assert status == 1
    assert 'Property "status" defined in "ReleaseRow" is read-only' in out


def test_every_row_class_is_frozen() -> None:
    declared = [c for _, c in inspect.getmembers(rows, inspect.isclass) if c.__module__ == rows.__name__]
    assert declared
    for kind in declared:
        assert dataclasses.is_dataclass(kind) and hasattr(kind, "__slots__"), kind
        assert kind.__hash__ is not None, kind


def test_rows_compare_and_hash_by_their_fields() -> None:
    a, b = _release(), _release()
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert _release(status="WITHDRAWN") != a
    assert hash(a) == hash(dataclasses.astuple(a))


def test_rows_copy_and_replace() -> None:
    a = _release()
    assert copy.copy(a) == a
    assert dataclasses.replace(a, id=99).id == 99 and a.id == 0


def test_frozen_keeps_the_class_its_own() -> None:
    @frozen
    class Pair:
        left: int
        right: str

    pair = Pair(1, "x")
    assert (pair.left, pair.right) == (1, "x")
    assert Pair.__slots__ == ("left", "right")
    assert Pair.__name__ == "Pair"
