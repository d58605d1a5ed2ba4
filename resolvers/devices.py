"""A device's firmware status: CPL entry, lineage, latest, upgrade path, for one device or a fleet."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from loaders.batching import RequestLoader
from loaders.devices import DeviceAsk, DeviceRows, device_rows
from loaders.frozen import frozen
from loaders.registry import Loaders
from loaders.rows import CplEntryRow, ManufacturerRow, ModelRow, ReleaseRow
from loaders.vocabulary import CplStatus, ReleaseStatus
from resolvers import paths
from resolvers.context import Context
from resolvers.identity import Identity
from resolvers.visibility import can_see_fir_of, visible_releases


@frozen
class Analysis:
    """What the FIR says about one identity, as this caller may see it."""

    current: ReleaseRow | None
    latest: ReleaseRow | None
    is_latest: bool | None
    upgrade_path: list[ReleaseRow] | None
    lineage: list[ReleaseRow]


@dataclass(slots=True)
class ModelView:
    """One model and hardware version's releases as this caller may see them: shared by its devices."""

    visible: list[ReleaseRow]
    lineage: list[ReleaseRow]
    steps: list[ReleaseRow]  # the lineage's upgrade targets, in listing order
    _successors: paths.Successors | None = None  # the upgrade edges, built when a device needs a route

    @property
    def latest(self) -> ReleaseRow | None:
        return self.steps[-1] if self.steps else None

    @property
    def successors(self) -> paths.Successors:
        if self._successors is None:
            self._successors = paths.successors_of(self.steps, paths.listed_entries(self.lineage))
        return self._successors


@dataclass(slots=True)
class DeviceStatus:
    identity: Identity
    cpl_entry: CplEntryRow | None
    model: ModelRow | None
    manufacturer: ManufacturerRow | None
    # None for a caller who may not see this manufacturer's FIR: the guarded fields never read it then
    analysis: Analysis | None = None

    @property
    def on_cpl(self) -> bool:
        return self.cpl_entry is not None and self.cpl_entry.status == CplStatus.CURRENT


# What a device query reads in its one statement besides CPL rows and releases, because the
# operation selects it (schema.devices.prefetch_of): nested fields then resolve without a query.
Prefetch = DeviceAsk
NOTHING = Prefetch()


async def device_statuses(
    ctx: Context, identities: list[Identity], prefetch: Prefetch = NOTHING
) -> list[DeviceStatus]:
    """One statement for any number of identities: their CPL rows and every release of their models
    (only for a caller who may see the FIR), plus what `prefetch` names. The FIR fields are then
    computed here, once per model and once per identity, so that they resolve without further awaits;
    the rows prime the request's loaders, so nested fields (cplEntry, contacts, upgrade edges) find them."""
    keys = [(i.manufacturer_id, i.model_id, i.hardware_version, i.firmware_version) for i in identities]
    principal = ctx.principal
    fir = [i for i in identities if can_see_fir_of(principal, i.manufacturer_id)]
    model_keys = list(dict.fromkeys(i.model_key for i in fir))
    contacts_of = list(dict.fromkeys(i.manufacturer_id for i in fir)) if prefetch.contacts else []
    ask = DeviceAsk(
        contacts=bool(contacts_of),
        release_entries=prefetch.release_entries and bool(model_keys),
        cpl_versions=prefetch.cpl_versions and bool(model_keys),
    )
    found = await device_rows(ctx.loaders.db, keys, model_keys, contacts_of, ask)
    _prime(ctx, found)
    views = {key: model_view(ctx, rows) for key, rows in found.releases.items()}
    return [
        DeviceStatus(
            identity,
            rows.cpl_entry,
            rows.model,
            rows.manufacturer,
            _analysed(identity, views.get(identity.model_key), rows.cpl_entry),
        )
        for identity, rows in zip(identities, found.identities, strict=True)
    ]


async def device_status(
    ctx: Context, identity: Identity, prefetch: Prefetch = NOTHING, *, alone: bool = False
) -> DeviceStatus:
    """One identity among many asked at once (federation's _entities): they are answered together by
    one device_statuses call, so a thousand meters cost what a fleet of a thousand costs.

    `alone`: the caller knows no other identity joins this request's batch (the operation's only
    device field): the statement is issued at once, without the batch's two loop turns, its task and
    its future, which cost a single-device query about a twentieth of its CPU."""
    if alone and DeviceStatusBatch not in ctx.memo:
        return (await device_statuses(ctx, [identity], prefetch))[0]
    loader = ctx.memo.get(DeviceStatusBatch)
    if loader is None:
        loader = ctx.memo[DeviceStatusBatch] = DeviceStatusBatch(ctx)
    loader.prefetch |= prefetch
    return await loader.load(identity)


class DeviceStatusBatch(RequestLoader[Identity, DeviceStatus]):
    """Per request (it lives in the request's memo), like every DataLoader.

    It holds its context weakly: the memo it lives in belongs to the context's loaders, and a strong
    reference back would make every device request a reference cycle left for the collector."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = weakref.ref(ctx)
        self.prefetch = NOTHING  # what any of the batch's callers selects

    async def batch_load_fn(self, identities: Sequence[Identity]) -> list[DeviceStatus]:
        ctx = self.ctx()
        if ctx is None:  # the request is over: nobody awaits these answers
            raise RuntimeError("the request that asked for these devices has ended")
        return await device_statuses(ctx, list(identities), self.prefetch)


def _prime(ctx: Context, found: DeviceRows) -> None:
    """Nested fields (cplEntry { model { manufacturer } }, contacts, release { cplEntry }, upgrade
    edges) then find their rows without a query."""
    primer = ctx.loaders.primer
    entry, model, manufacturer = (
        primer(Loaders.cpl_entry_by_number),
        primer(Loaders.model_by_key),
        primer(Loaders.manufacturer_by_id),
    )
    for rows in found.identities:
        if rows.cpl_entry is not None:
            entry(rows.cpl_entry.number, rows.cpl_entry)
        if rows.model is not None:
            model((rows.model.manufacturer_id, rows.model.model_id), rows.model)
        if rows.manufacturer is not None:
            manufacturer(rows.manufacturer.manufacturer_id, rows.manufacturer)
    for row in found.release_entries:
        entry(row.number, row)
    if found.releases:
        releases = primer(Loaders.releases_by_model_hw)
        for key, rows_ in found.releases.items():
            releases(key, rows_)
    if found.contacts:
        contacts = primer(Loaders.contacts_by_manufacturer)
        for manufacturer_id, people in found.contacts.items():
            contacts(manufacturer_id, people)
    if found.cpl_versions:
        cpl_versions = primer(Loaders.cpl_versions_by_model_hw)
        for key, versions in found.cpl_versions.items():
            cpl_versions(key, versions)


def model_view(ctx: Context, releases: list[ReleaseRow]) -> ModelView:
    return view_of(visible_releases(ctx, releases))


def view_of(visible: list[ReleaseRow]) -> ModelView:
    """The view of releases already filtered to what the caller may see."""
    lineage = paths.lineage(visible)
    return ModelView(visible, lineage, paths.steps_of(lineage))


def analyse(
    identity: Identity,
    view: ModelView,
    number: int | None = None,
    listed_current: bool = False,
    *,
    withdrawn: bool | None = None,
) -> Analysis:
    """Latest, is-latest and the upgrade path of a device whose firmware the CPL lists as entry
    `number` (None: not on the CPL), `listed_current` when that entry is Current; `withdrawn` when
    the device's own firmware record is withdrawn (None: found in the view).

    A device on firmware the CPL lists Current after the latest release the FIR holds (its maker
    has not published it in the FIR yet) is ahead of what the FIR knows: whether it is the latest is
    unknown (null) and there is no path to give, rather than "outdated" with a path back. Not when
    its maker withdrew that firmware's release: then the FIR does know, and the device is not on the
    latest (a route, if any, still runs forwards only)."""
    current = current_release(identity.firmware_version, view.visible)
    latest = view.latest
    if latest is None:
        return Analysis(current, None, None, None, view.lineage)
    is_latest = latest.firmware_version == identity.firmware_version
    if withdrawn is None:  # the view holds the device's own records, if the caller may see them
        withdrawn = publicly_withdrawn(identity.firmware_version, view.visible)
    if not is_latest and listed_current and not withdrawn and _ahead(number, latest):
        return Analysis(current, latest, None, None, view.lineage)
    route = [] if is_latest else paths.route(identity.firmware_version, latest, view.successors, number)
    return Analysis(current, latest, is_latest, route, view.lineage)


def _analysed(identity: Identity, view: ModelView | None, entry: CplEntryRow | None) -> Analysis | None:
    if view is None:
        return None
    if entry is None:
        return analyse(identity, view)
    return analyse(identity, view, entry.number, entry.status == CplStatus.CURRENT)


def _ahead(number: int | None, latest: ReleaseRow) -> bool:
    return number is not None and latest.cpl_entry_number is not None and number > latest.cpl_entry_number


def publicly_withdrawn(firmware_version: str, releases: list[ReleaseRow]) -> bool:
    """The FIR withdrew this firmware: no release of it is published, and one was published and then
    withdrawn. From public records only (as the baseline's SQL decides), so every caller gets the
    same answer: a submission its maker withdrew before publication, or one resubmitted since, which
    only the maker and SECAS see, does not turn an "ahead" device (null) into an outdated one."""
    mine = [r for r in releases if r.firmware_version == firmware_version and r.is_public]
    return bool(mine) and all(r.status == ReleaseStatus.WITHDRAWN for r in mine)


def current_release(firmware_version: str, releases: list[ReleaseRow]) -> ReleaseRow | None:
    """The live record for this firmware, else the most recent withdrawn one."""
    mine = [r for r in releases if r.firmware_version == firmware_version]
    live = [r for r in mine if r.status != ReleaseStatus.WITHDRAWN]
    return (live or mine)[-1] if mine else None
