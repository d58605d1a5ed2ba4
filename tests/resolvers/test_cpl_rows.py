"""CPL rows without any file: the header found among title rows, rows normalised, duplicates reported."""

from __future__ import annotations

import pytest

from loaders.rows import CplRow
from resolvers.cpl_rows import COLUMNS, NUMBER, CplFileError, CplReader, RowProblem
from tests.fixtures_cpl import REAL_ROWS, generated_row


def test_rows_of_cells_become_cpl_rows() -> None:
    rows = [["Central Products List"], [], list(COLUMNS), REAL_ROWS[0], [None] * 13, generated_row(5)]
    seen: list[tuple[int, int | None]] = []
    reader = CplReader(iter(rows), len(rows), lambda done, total: seen.append((done, total)))
    got = list(reader)
    assert reader.header_row == 3 and reader.rows_read == 2 and seen == [(3, 3)]
    assert [(r.row_number, r.number) for r in got if isinstance(r, CplRow)] == [(4, 1), (6, 5)]


def test_a_second_number_for_one_identity_is_a_problem() -> None:
    twin = list(generated_row(5))
    twin[COLUMNS.index(NUMBER)] = 6
    got = list(CplReader(iter([list(COLUMNS), generated_row(5), twin]), None, None))
    assert got[1] == RowProblem(3, NUMBER, "same device identity as entry 5 in row 2")


def test_rows_without_a_header_are_no_cpl() -> None:
    with pytest.raises(CplFileError, match="no CPL header row found"):
        CplReader(iter([["a", "b"], [1, 2]]), None, None)
