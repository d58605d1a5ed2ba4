"""Upgrade paths on hand-built graphs: fewest steps, tie-breaks, gaps, skipped steps, cycles, and CPL
listing order (never the release date) deciding latest, lineage and ties."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.rows import ReleaseRow
from resolvers.devices import analyse, view_of
from resolvers.identity import Identity
from resolvers.paths import backwards, is_step, lineage, listing_key, route


def rel(
    rid: int,
    fw: str,
    day: int,
    *sources: str,
    status: str = "PUBLISHED",
    cpl: str | None = "CURRENT",
    entry: int | None = -1,
) -> ReleaseRow:
    """A release on CPL entry `rid` (or `entry`; None: not listed yet) dated `day` days into 2020."""
    return ReleaseRow(
        id=rid,
        manufacturer_id="106C",
        model_id="4331",
        hardware_version="00AC",
        firmware_version=fw,
        image_hash="A" * 64,
        status=status,
        cpl_entry_number=rid if entry == -1 else entry,
        cpl_status=cpl,
        release_date=dt.date(2020, 1, 1) + dt.timedelta(days=day),
        release_notes=None,
        urgency=None,
        advisories=(),
        upgradable_from=tuple(sources),
        submitted_by=None,
        submitted_org=None,
        submitted_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        # a withdrawn release here was published first (the FIR withdrew it), unless a test says not
        published_at=dt.datetime(2020, 1, 2, tzinfo=dt.UTC) if status in ("PUBLISHED", "WITHDRAWN") else None,
        published_by=None,
        withdrawn_at=None,
        withdrawn_reason=None,
    )


def latest(releases: list[ReleaseRow]) -> ReleaseRow | None:
    """What a model view of these releases holds as latest."""
    return view_of(releases).latest


def upgrade_path(start: str, target: ReleaseRow, releases: list[ReleaseRow]) -> list[ReleaseRow] | None:
    """The route a model view of these releases finds from `start` to `target`."""
    return route(start, target, view_of(releases).successors)


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


def on(number: int, fw: str, released: dt.date, *sources: str, **extra: str) -> ReleaseRow:
    """A release on CPL entry `number` with an explicit release date (record id = entry number)."""
    row = rel(number, fw, 0, *sources, **extra)  # type: ignore[arg-type]
    return dataclasses.replace(row, release_date=released)


def device(fw: str) -> Identity:
    return Identity("106C", "4331", "00AC", fw)


def test_latest_is_the_highest_current_entry_not_the_latest_release_date() -> None:
    # Issue 10: entry 10 is dated after entry 13, yet entry 13 was listed later and upgrades from it.
    rs = [on(10, "12610010", dt.date(2025, 5, 19)), on(13, "12620001", dt.date(2025, 1, 1), "12610010")]
    for order in (rs, list(reversed(rs))):
        a = analyse(device("12610010"), view_of(order))
        assert a.latest is not None and a.latest.cpl_entry_number == 13
        assert a.is_latest is False
        assert [r.cpl_entry_number for r in a.upgrade_path or []] == [13]
        assert [r.cpl_entry_number for r in a.lineage] == [10, 13]
    assert analyse(device("12620001"), view_of(rs)).is_latest is True


def test_lineage_is_listing_order_whatever_the_dates() -> None:
    rs = [
        on(7, "C", dt.date(2019, 1, 1)),
        on(2, "A", dt.date(2024, 1, 1)),
        on(5, "B", dt.date(2010, 1, 1)),
        dataclasses.replace(on(9, "D", dt.date(2030, 1, 1)), release_date=None),
    ]
    assert [r.firmware_version for r in lineage(rs)] == ["A", "B", "C", "D"]
    top = latest(rs)
    assert top is not None and top.firmware_version == "D"


def test_path_tie_goes_to_the_earlier_listed_release_not_the_earlier_dated() -> None:
    # A -> B -> D and A -> C -> D are equally short; B is listed first (entry 2) but dated last.
    rs = [
        on(1, "A", dt.date(2020, 1, 1)),
        on(2, "B", dt.date(2024, 1, 1), "A"),
        on(3, "C", dt.date(2021, 1, 1), "A"),
        on(4, "D", dt.date(2022, 1, 1), "B", "C"),
    ]
    for order in (rs, list(reversed(rs))):
        assert versions(upgrade_path("A", rs[3], order)) == ["B", "D"]


def test_listing_key_is_total_unlisted_after_listed_then_by_record_id() -> None:
    listed = rel(30, "L", 0, entry=4)
    relisted = rel(31, "L", 0, entry=4, status="WITHDRAWN")
    waiting = [
        rel(12, "W1", 9, status="SUBMITTED", cpl=None, entry=None),
        rel(11, "W2", 0, cpl=None, entry=None),
    ]
    ordered = sorted([*waiting, relisted, listed], key=listing_key)
    assert [r.id for r in ordered] == [30, 31, 11, 12]
    # without an entry a release is never the latest, and a published one (bad data) comes last
    top = latest([*waiting, listed])
    assert top is not None and top.id == 30 and [r.id for r in lineage([*waiting, listed])] == [30, 11]


def test_an_edge_runs_backwards_from_a_later_or_unlisted_source_into_a_listed_release() -> None:
    assert backwards("A", 10, 13) is None
    assert backwards("A", 13, 10) is not None and "entry 13" in (backwards("A", 13, 10) or "")
    assert "not on the CPL yet" in (backwards("A", None, 10) or "")
    assert backwards("A", 13, None) is None and backwards("A", None, None) is None  # not listed yet: no order


def test_a_route_never_steps_back_in_listing_order() -> None:
    """An edge listCplEntry accepted backwards (from firmware listed later) is no step: not from a
    published release's entry, and not from the device's own entry when it has no release."""
    removed_later = [rel(1, "A", 1), rel(4, "T", 2, "A", "B"), rel(6, "B", 3, cpl="REMOVED")]
    assert versions(upgrade_path("A", removed_later[1], removed_later)) == ["T"]
    assert upgrade_path("B", removed_later[1], removed_later) is None  # B is entry 6, T entry 4
    view = view_of([rel(10, "X", 1, "Z"), rel(11, "Z", 2, status="WITHDRAWN")])
    on_z = analyse(Identity("106C", "4331", "00AC", "Z"), view, 11, listed_current=False)
    assert on_z.is_latest is False and on_z.upgrade_path is None
    assert versions(analyse(Identity("106C", "4331", "00AC", "Z"), view, 9).upgrade_path) == ["X"]


def test_a_device_listed_after_the_latest_release_is_ahead_not_outdated() -> None:
    """Its firmware is Current on a later CPL entry than any release the FIR holds: unknown, no path."""
    view = view_of([rel(1, "A", 1), rel(2, "B", 2, "A")])
    ahead = analyse(Identity("106C", "4331", "00AC", "C"), view, 3, listed_current=True)
    assert ahead.latest is not None and ahead.latest.firmware_version == "B"
    assert ahead.is_latest is None and ahead.upgrade_path is None
    removed = analyse(Identity("106C", "4331", "00AC", "C"), view, 3, listed_current=False)
    assert removed.is_latest is False  # off the CPL: it must move, and no edge takes it back
    behind = analyse(Identity("106C", "4331", "00AC", "A"), view, 1, listed_current=True)
    assert behind.is_latest is False and versions(behind.upgrade_path) == ["B"]
    withdrawn = analyse(
        Identity("106C", "4331", "00AC", "C"),
        view_of([*view.visible, rel(3, "C", 3, status="WITHDRAWN")]),
        3,
        True,
    )
    assert withdrawn.is_latest is False  # its maker withdrew it: the FIR knows, and it is not the latest
    never_published = [*view.visible, replace(rel(3, "C", 3, status="WITHDRAWN"), published_at=None)]
    unknown = analyse(Identity("106C", "4331", "00AC", "C"), view_of(never_published), 3, True)
    assert unknown.is_latest is None  # withdrawn as a submission: never the FIR's, so still ahead


def _reference_latest(releases: list[ReleaseRow]) -> ReleaseRow | None:
    """latest as first written: the highest listing key among the steps."""
    return max((r for r in releases if is_step(r)), key=listing_key, default=None)


def _reference_upgrade_path(start: str, target: ReleaseRow, releases: list[ReleaseRow]) -> list[str] | None:
    """upgrade_path as first written: edges built from the steps sorted afresh, then breadth-first."""
    if start == target.firmware_version:
        return []
    listed: dict[str, int] = {}  # a version's latest listing among its published releases
    for r in releases:
        if r.status == "PUBLISHED" and r.cpl_entry_number is not None:
            listed[r.firmware_version] = max(listed.get(r.firmware_version, 0), r.cpl_entry_number)
    successors: dict[str, list[ReleaseRow]] = {}
    for r in sorted((r for r in releases if is_step(r)), key=listing_key):
        for source in r.upgradable_from:
            number = listed.get(source)
            if number is None or r.cpl_entry_number is None or number < r.cpl_entry_number:
                successors.setdefault(source, []).append(r)
    came_from: dict[str, tuple[str, ReleaseRow]] = {}
    queue, seen = [start], {start}
    while queue:
        version = queue.pop(0)
        for step in successors.get(version, ()):
            if step.firmware_version in seen:
                continue
            seen.add(step.firmware_version)
            came_from[step.firmware_version] = (version, step)
            if step.firmware_version == target.firmware_version:
                path, at = [], step.firmware_version
                while at != start:
                    at, hop = came_from[at]
                    path.append(hop.firmware_version)
                return path[::-1]
            queue.append(step.firmware_version)
    return None


_VERSIONS = st.sampled_from("ABCDEFG")
_RELEASE = st.tuples(
    _VERSIONS,
    st.lists(_VERSIONS, max_size=3),
    st.sampled_from(["PUBLISHED", "PUBLISHED", "WITHDRAWN", "SUBMITTED"]),
    st.sampled_from(["CURRENT", "CURRENT", "REMOVED", None]),
    st.one_of(st.none(), st.integers(1, 9)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_RELEASE, max_size=9), _VERSIONS)
def test_one_listing_pass_answers_as_the_separate_passes_did(specs: list[tuple], start: str) -> None:  # type: ignore[type-arg]
    """latest, the upgrade path (over a model view's edges, shared or built afresh) and the
    analysis agree with the first, separate-pass implementation on random graphs, cycles and ties
    included."""
    rs = [
        rel(i + 1, fw, i, *sources, status=status, cpl=cpl, entry=entry)
        for i, (fw, sources, status, cpl, entry) in enumerate(specs)
    ]
    expected_latest = _reference_latest(rs)
    assert latest(rs) is expected_latest
    view = view_of(rs)
    assert view.latest is expected_latest
    if expected_latest is None:
        return
    expected = _reference_upgrade_path(start, expected_latest, rs)
    assert versions(upgrade_path(start, expected_latest, rs)) == expected
    assert versions(route(start, expected_latest, view.successors)) == expected
    analysis = analyse(Identity("106C", "4331", "00AC", start), view)
    assert analysis.latest is expected_latest
    assert versions(analysis.upgrade_path) == ([] if start == expected_latest.firmware_version else expected)
