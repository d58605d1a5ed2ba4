"""The demo rows: CPL entries numbered in listing order, so no upgrade edge runs backwards."""

from __future__ import annotations

from loaders.demo_plan import build_plan
from loaders.demo_rows import cpl_rows


def test_entry_numbers_follow_listing_and_edges_run_forwards() -> None:
    plan = build_plan(1)
    rows, numbers = cpl_rows(plan)
    backwards = []
    for lineage in plan.lineages:
        key = (lineage.manufacturer_id, lineage.model_id, lineage.hardware)
        listed = [numbers[(*key, v.firmware)] for v in lineage.versions if (*key, v.firmware) in numbers]
        assert listed == sorted(listed), key  # a lineage's versions are listed in order
        for version in lineage.versions:
            target = numbers.get((*key, version.firmware))
            for source in version.upgradable_from:
                origin = numbers.get((*key, source))
                if target is not None and (origin is None or origin > target):
                    backwards.append((key, source, version.firmware))
    assert backwards == []
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
