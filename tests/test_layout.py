"""Tests are shaped like the code: tests/<layer>/test_<module>.py names the module it tests.

`test_<module>_<aspect>.py` tests one aspect of a module (`test_mutations_admin.py`: SECAS's
mutations of schema/mutations.py). Suites that test no one module are listed here, each with why;
tests/e2e (through a real server), tests/perf and tests/verifier are not per module at all.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("gateway", "schema", "resolvers", "loaders", "spreadsheets")
CROSS_CUTTING = {
    "tests/gateway/test_deploy.py": "the deploy/ files (compose, router) against the SDL",
    "tests/schema/test_malformed_input.py": "malformed input to every field and mutation",
    "tests/schema/test_statement_counts.py": "the N+1 guard over the whole schema",
    "tests/loaders/test_sql_snapshots.py": "the SQL of representative queries, every loader",
}


def _test_files() -> list[Path]:
    return sorted(f for layer in LAYERS for f in (ROOT / "tests" / layer).rglob("test_*.py"))


def names_a_module(test: Path) -> bool:
    """tests/<layer>/<sub>/test_a_b.py names <layer>/<sub>/a_b.py, or a.py (aspect b), or package a/."""
    package = ROOT / test.relative_to(ROOT / "tests").parent
    words = test.stem.removeprefix("test_").split("_")
    prefixes = ("_".join(words[:n]) for n in range(len(words), 0, -1))
    return any((package / f"{p}.py").is_file() or (package / p / "__init__.py").is_file() for p in prefixes)


def test_every_test_file_names_the_module_it_tests() -> None:
    unnamed = [
        str(f.relative_to(ROOT))
        for f in _test_files()
        if str(f.relative_to(ROOT)) not in CROSS_CUTTING and not names_a_module(f)
    ]
    assert unnamed == [], "name these after their module, or list them in CROSS_CUTTING with why"


def test_the_cross_cutting_list_names_only_suites_that_exist() -> None:
    assert [name for name in CROSS_CUTTING if not (ROOT / name).is_file()] == []


def test_a_misnamed_file_is_caught() -> None:
    layer = ROOT / "tests" / "schema"
    assert names_a_module(layer / "test_mutations_admin.py")
    assert names_a_module(ROOT / "tests" / "gateway" / "auth" / "test_jwks.py")
    assert not names_a_module(layer / "test_smoke.py")
