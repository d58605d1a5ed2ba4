"""Upgrade paths on hand-built graphs: fewest steps, tie-breaks, gaps, skipped steps, cycles."""

from __future__ import annotations

import datetime as dt

from loaders.rows import ReleaseRow
from resolvers.paths import latest, lineage, upgrade_path


def rel(
    rid: int, fw: str, day: int, *sources: str, status: str = "PUBLISHED", cpl: str = "CURRENT"
) -> ReleaseRow:
    return ReleaseRow(
        id=rid,
        manufacturer_id="106C",
        model_id="4331",
        hardware_version="00AC",
        firmware_version=fw,
        image_hash="A" * 64,
        status=status,
        cpl_entry_number=rid,
        cpl_status=cpl,
        release_date=dt.date(2020, 1, 1) + dt.timedelta(days=day),
        release_notes=None,
        urgency=None,
        advisories=(),
        upgradable_from=tuple(sources),
        submitted_by=None,
        submitted_org=None,
        submitted_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        published_at=None,
        published_by=None,
        withdrawn_at=None,
        withdrawn_reason=None,
    )


def versions(path: list[ReleaseRow] | None) -> list[str] | None:
    return None if path is None else [r.firmware_version for r in path]


def test_direct_edge() -> None:
    rs = [rel(1, "A", 1), rel(2, "B", 2, "A")]
    assert versions(upgrade_path("A", rs[1], rs)) == ["B"]


def test_through_intermediates() -> None:
    rs = [rel(1, "A", 1), rel(2, "B", 2, "A"), rel(3, "C", 3, "B"), rel(4, "D", 4, "C")]
    assert versions(upgrade_path("A", rs[3], rs)) == ["B", "C", "D"]


def test_fewest_steps_wins_over_longer_route() -> None:
    rs = [rel(1, "A", 1), rel(2, "B", 2, "A"), rel(3, "C", 3, "B"), rel(4, "D", 4, "C", "B")]
    assert versions(upgrade_path("A", rs[3], rs)) == ["B", "D"]


def test_tie_goes_to_oldest_release_each_step() -> None:
    # A -> B -> D and A -> C -> D are equally short; B is older than C.
    rs = [rel(1, "A", 1), rel(3, "C", 3, "A"), rel(2, "B", 2, "A"), rel(4, "D", 4, "B", "C")]
    assert versions(upgrade_path("A", rs[3], rs)) == ["B", "D"]
    assert versions(upgrade_path("A", rs[3], list(reversed(rs)))) == ["B", "D"]


def test_no_route_is_none_and_latest_is_empty() -> None:
    rs = [rel(1, "A", 1), rel(2, "B", 2), rel(3, "C", 3, "B")]
    assert upgrade_path("A", rs[2], rs) is None
    assert upgrade_path("C", rs[2], rs) == []


def test_withdrawn_and_removed_steps_are_skipped() -> None:
    withdrawn = [rel(1, "A", 1), rel(2, "B", 2, "A", status="WITHDRAWN"), rel(3, "C", 3, "B")]
    assert upgrade_path("A", withdrawn[2], withdrawn) is None
    removed = [rel(1, "A", 1), rel(2, "B", 2, "A", cpl="REMOVED"), rel(3, "C", 3, "B"), rel(4, "X", 9, "A")]
    assert upgrade_path("A", removed[2], removed) is None
    detour = [*removed, rel(5, "Y", 5, "X"), rel(6, "C2", 6)]
    assert versions(upgrade_path("A", detour[2], [*detour, rel(7, "C", 3, "Y")])) == ["X", "Y", "C"]


def test_cycle_in_bad_data_terminates() -> None:
    rs = [rel(1, "A", 1, "C"), rel(2, "B", 2, "A"), rel(3, "C", 3, "B"), rel(4, "Z", 4)]
    assert upgrade_path("A", rs[3], rs) is None
    assert versions(upgrade_path("A", rs[2], rs)) == ["B", "C"]


def test_start_from_firmware_without_release() -> None:
    rs = [rel(2, "B", 2, "OLD"), rel(3, "C", 3, "B")]
    assert versions(upgrade_path("OLD", rs[1], rs)) == ["B", "C"]


def test_latest_and_lineage() -> None:
    rs = [
        rel(3, "C", 3, cpl="REMOVED"),
        rel(1, "A", 1),
        rel(2, "B", 2),
        rel(4, "D", 4, status="SUBMITTED", cpl="CURRENT"),
        rel(5, "E", 5, status="WITHDRAWN"),
    ]
    top = latest(rs)
    assert top is not None and top.firmware_version == "B"
    assert [r.firmware_version for r in lineage(rs)] == ["A", "B", "C"]
