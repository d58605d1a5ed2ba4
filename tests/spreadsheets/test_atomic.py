"""spreadsheets.atomic: a file appears complete or not at all, and its partial is never someone else's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spreadsheets.atomic import replaced_atomically


def test_the_file_appears_whole_with_a_new_files_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    with replaced_atomically(target) as partial:
        partial.write_text("a,b\n")
        assert not target.exists() and partial.parent == tmp_path
    assert target.read_text() == "a,b\n" and list(tmp_path.iterdir()) == [target]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), replaced_atomically(target) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_a_planted_partial_name_is_never_written_through(tmp_path: Path) -> None:
    """The old fixed name (.NAME.partial) could be a symlink someone left in a shared directory."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / ".report.csv.partial").symlink_to(victim)
    with replaced_atomically(tmp_path / "report.csv") as partial:
        assert not partial.is_symlink()
        partial.write_text("report")
    assert victim.read_text() == "precious" and (tmp_path / "report.csv").read_text() == "report"
