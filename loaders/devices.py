"""SQL for device identities: CPL entry, model and manufacturer, with their releases and contacts, in one statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from loaders import cpl, rows
from loaders.batching import DbLoader
from loaders.db import Db
from loaders.frozen import frozen

IdentityKey = tuple[str, str, str, str]
ModelHwKey = tuple[str, str, str]

_SQL = (
    "select i.ord,"
    " c.number, c.status::text as status, c.manufacturer_id, c.model_id, c.hardware_version,"
    " c.firmware_version, c.device_type::text as device_type, c.smets_chts_version, c.gbcs_version,"
    " c.image_hash, c.cpl_version, c.listed_on, c.removed_on,"
    " m.model_id as m_model_id, m.name as m_name, m.device_type::text as m_device_type,"
    " f.manufacturer_id as f_manufacturer_id, f.name as f_name, f.website as f_website"
    " from unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as i(mfr, model, hw, fw, ord)"
    " left join manufacturers f on f.manufacturer_id = i.mfr"
    " left join device_models m on m.manufacturer_id = i.mfr and m.model_id = i.model"
    " left join cpl_entries c on c.manufacturer_id = i.mfr and c.model_id = i.model"
    "  and c.hardware_version = i.hw and c.firmware_version = i.fw"
)


@frozen
class IdentityRows:
    """What the CPL knows of one identity; any part may be unknown."""

    cpl_entry: rows.CplEntryRow | None
    model: rows.ModelRow | None
    manufacturer: rows.ManufacturerRow | None


class IdentityRowsLoader(DbLoader[IdentityKey, IdentityRows]):
    """One round trip for any number of identities: the fleet check's and the device query's first step."""

    async def batch_load_fn(self, keys: Sequence[IdentityKey]) -> list[IdentityRows]:
        found = await self.db.fetch_keyed(_SQL, *(list(column) for column in zip(*keys, strict=True)))
        by_position = {r["ord"]: r for r in found}
        return [_identity_rows(key, by_position[n]) for n, key in enumerate(keys, start=1)]


def _identity_rows(key: IdentityKey, r: asyncpg.Record) -> IdentityRows:
    entry = rows.cpl_entry(r) if r["number"] is not None else None
    model = (
        rows.ModelRow(key[0], r["m_model_id"], r["m_name"], r["m_device_type"]) if r["m_model_id"] else None
    )
    maker = (
        rows.ManufacturerRow(r["f_manufacturer_id"], r["f_name"], r["f_website"])
        if r["f_manufacturer_id"]
        else None
    )
    return IdentityRows(entry, model, maker)


# One statement for a device query: the identities' CPL rows (kind 0), every release of the model
# keys asked (kind 1; with its CPL entry's columns when asked), the live contacts of the
# manufacturers asked (kind 2) and the CPL's firmware versions of the model keys asked (kind 3, its
# identity columns in _C). The shapes share one row layout, by position (_C, _M, _F, _R, _K): what
# a shape does not use is a typed null. Ordered by kind, then identity position, release id,
# contact order or entry number, so each list arrives in the order its own loader would give it.
_NO = "null::int, " + ", ".join(["null::text"] * 10) + ", null::date, null::date"


def utc_text(column: str) -> str:
    """A timestamptz as ISO 8601 text in UTC, microseconds included, whatever the session's TimeZone
    and DateStyle: `datetime.fromisoformat` reads it back in a fraction of what asyncpg's binary
    timestamptz decoder costs (about 6,500 instructions a value, most of a release row's decoding)."""
    return f"""to_char({column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


_RELEASE = (
    "r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash, r.status::text,"
    " r.cpl_entry_number, c.status::text, r.release_date, r.release_notes, r.urgency::text, r.advisories,"
    " coalesce((select array_agg(u.from_firmware_version order by u.from_firmware_version)"
    "   from release_upgradable_from u where u.release_id = r.id), '{}'),"
    f" r.submitted_by, r.submitted_org, {utc_text('r.submitted_at')}, {utc_text('r.published_at')},"
    f" r.published_by, {utc_text('r.withdrawn_at')}, r.withdrawn_reason"
)
_NO_RELEASE = (
    "null::text, null::text, null::text, null::text, null::text, null::text, null::int, null::text,"
    " null::date, null::text, null::text, null::text[], null::text[], null::text, null::text,"
    " null::text, null::text, null::text, null::text, null::text"
)
_NO_TEXT3 = "null::text, null::text, null::text"
_NO_CONTACT = "null::text, null::text, null::text, null::text"
# positions: 0 kind, 1 ordinal | release id | contact order | entry number, then these slices
_C = slice(2, 15)  # a CPL entry, as rows.CplEntryRow takes it
_M = slice(15, 18)  # model id, name, device type
_F = slice(18, 21)  # manufacturer id, name, website (a contact's manufacturer id at 18)
_R = slice(21, 41)  # a release after its id, as rows.ReleaseRow takes it
_K = slice(41, 45)  # a contact's role, name, email, phone


@dataclass(frozen=True, slots=True)
class DeviceAsk:
    """Which optional parts `device_rows` reads: each is a loader's answer, fetched along."""

    contacts: bool = False  # the manufacturers' live contacts
    release_entries: bool = False  # the CPL entry of each release (release { cplEntry })
    cpl_versions: bool = False  # the CPL's versions of each model key (upgradableFromVersions, revisions)

    def __or__(self, other: DeviceAsk) -> DeviceAsk:
        return DeviceAsk(
            self.contacts or other.contacts,
            self.release_entries or other.release_entries,
            self.cpl_versions or other.cpl_versions,
        )


def device_sql(ask: DeviceAsk, single: bool = False) -> str:
    """The statement `device_rows` issues for `ask` (one text per combination: prepared once).

    `single`: the form for one identity whose own model key and manufacturer are the ones asked (a
    device query, an entity), its four columns as scalar parameters. It answers what the array form
    answers for those keys, by the same row layout; PostgreSQL runs it for about three quarters of the
    array form's backend CPU (plain index lookups, no unnest to join through), and the driver encodes
    four strings rather than seven one-element arrays."""
    found = _DEVICE_SQL.get((ask, single))
    if found is None:
        found = _DEVICE_SQL[ask, single] = _device_sql(ask, _SCALAR if single else _ARRAYS)
    return found


_DEVICE_SQL: dict[tuple[DeviceAsk, bool], str] = {}


@dataclass(frozen=True, slots=True)
class _Keys:
    """How a statement names its keys: the identities, the model keys and the manufacturers asked."""

    identities: str  # a relation i(mfr, model, hw, fw, ord)
    model_key: str  # a condition on (manufacturer_id, model_id, hardware_version) of alias {a}
    manufacturers: str  # the manufacturers' array or scalar parameter


_ARRAYS = _Keys(
    "unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as i(mfr, model, hw, fw, ord)",
    "({a}.manufacturer_id, {a}.model_id, {a}.hardware_version) in"
    " (select * from unnest($5::text[], $6::text[], $7::text[]))",
    "any($8::text[])",
)
_SCALAR = _Keys(
    "(select $1::text, $2::text, $3::text, $4::text, 1::bigint) as i(mfr, model, hw, fw, ord)",
    "{a}.manufacturer_id = $1 and {a}.model_id = $2 and {a}.hardware_version = $3",
    "$1",
)


def _device_sql(ask: DeviceAsk, keys: _Keys) -> str:
    parts = [
        "select 0 as kind, i.ord as n,"
        f" {cpl.columns('c')}, m.model_id, m.name, m.device_type::text,"
        f" f.manufacturer_id, f.name, f.website, {_NO_RELEASE}, {_NO_CONTACT}"
        f" from {keys.identities}"
        " left join manufacturers f on f.manufacturer_id = i.mfr"
        " left join device_models m on m.manufacturer_id = i.mfr and m.model_id = i.model"
        " left join cpl_entries c on c.manufacturer_id = i.mfr and c.model_id = i.model"
        "  and c.hardware_version = i.hw and c.firmware_version = i.fw",
        f"select 1, r.id, {cpl.columns('c') if ask.release_entries else _NO}, {_NO_TEXT3}, {_NO_TEXT3},"
        f" {_RELEASE}, {_NO_CONTACT}"
        " from firmware_releases r left join cpl_entries c on c.number = r.cpl_entry_number"
        f" where {keys.model_key.format(a='r')}",
    ]
    if ask.contacts:
        parts.append(
            f"select 2, row_number() over (order by k.manufacturer_id, k.position, k.id), {_NO},"
            f" {_NO_TEXT3}, k.manufacturer_id, null::text, null::text, {_NO_RELEASE},"
            f" k.role::text, k.name, k.email, k.phone"
            f" from contacts k where k.manufacturer_id = {keys.manufacturers} and k.retired_at is null"
        )
    if ask.cpl_versions:
        parts.append(
            "select 3, c.number, null::int, null::text, c.manufacturer_id, c.model_id, c.hardware_version,"
            " c.firmware_version, null::text, null::text, null::text, null::text, null::text, null::date,"
            f" null::date, {_NO_TEXT3}, {_NO_TEXT3}, {_NO_RELEASE}, {_NO_CONTACT}"
            f" from cpl_entries c where {keys.model_key.format(a='c')}"
        )
    return " union all ".join(parts) + " order by kind, n"


@frozen
class DeviceRows:
    """What one statement read for a device query, each part as its own loader would have read it."""

    identities: list[IdentityRows]  # in the order of the identity keys
    releases: dict[ModelHwKey, list[rows.ReleaseRow]]  # every model key asked, [] when it has none
    contacts: dict[str, list[rows.ContactRow]]  # every manufacturer asked, [] when it has none
    release_entries: list[rows.CplEntryRow]  # the releases' CPL entries, when asked
    cpl_versions: dict[ModelHwKey, frozenset[str]]  # every model key asked, when asked


async def device_rows(
    db: Db,
    identities: Sequence[IdentityKey],
    model_keys: Sequence[ModelHwKey],
    contacts_of: Sequence[str],
    ask: DeviceAsk,
) -> DeviceRows:
    """The CPL rows of `identities` and every release of `model_keys`, in one round trip; with
    `ask`, also the live contacts of `contacts_of`, the releases' CPL entries and the CPL's firmware
    versions of `model_keys`."""
    single = _single(identities, model_keys, contacts_of, ask)
    if single:
        args: list[Any] = list(identities[0])
    else:
        columns = [list(column) for column in zip(*identities, strict=True)] if identities else [[]] * 4
        models = [list(column) for column in zip(*model_keys, strict=True)] if model_keys else [[]] * 3
        args = [*columns, *models]
        if ask.contacts:
            args.append(list(contacts_of))
    found = await db.fetch_keyed(device_sql(ask, single), *args)
    count = len(identities)
    releases: dict[ModelHwKey, list[rows.ReleaseRow]] = {key: [] for key in model_keys}
    contacts: dict[str, list[rows.ContactRow]] = {key: [] for key in contacts_of} if ask.contacts else {}
    entries: dict[int, rows.CplEntryRow] = {}
    versions: dict[ModelHwKey, set[str]] = {key: set() for key in model_keys} if ask.cpl_versions else {}
    release_row, contact_row, cpl_entry_row = rows.ReleaseRow, rows.ContactRow, rows.CplEntryRow
    at = dt.datetime.fromisoformat  # the release's times, as utc_text wrote them
    for r in found[count:]:
        kind = r[0]
        if kind == 1:
            v: tuple[Any, ...] = r[_R]
            release = release_row(
                r[1], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], tuple(v[11]),
                tuple(v[12]), v[13], v[14], at(v[15]), at(v[16]) if v[16] else None, v[17],
                at(v[18]) if v[18] else None, v[19],
            )  # fmt: skip
            releases[release.model_key].append(release)
            if ask.release_entries and r[2] is not None and r[2] not in entries:
                entries[r[2]] = cpl_entry_row(*r[_C])
        elif kind == 2:
            contacts[r[18]].append(contact_row(r[18], *r[_K]))
        else:
            versions[r[4], r[5], r[6]].add(r[7])
    return DeviceRows(
        [_identity_of(key, r) for key, r in zip(identities, found[:count], strict=True)],
        releases,
        contacts,
        list(entries.values()),
        {key: frozenset(found) for key, found in versions.items()},
    )


def _single(
    identities: Sequence[IdentityKey],
    model_keys: Sequence[ModelHwKey],
    contacts_of: Sequence[str],
    ask: DeviceAsk,
) -> bool:
    """Whether the scalar form answers: one identity, and exactly its own model key and manufacturer."""
    if len(identities) != 1 or len(model_keys) != 1:
        return False
    key = identities[0]
    if tuple(model_keys[0]) != key[:3]:
        return False
    return not ask.contacts or list(contacts_of) == [key[0]]


def _identity_of(key: IdentityKey, r: asyncpg.Record) -> IdentityRows:
    entry = rows.CplEntryRow(*r[_C]) if r[2] is not None else None
    model = rows.ModelRow(key[0], *r[_M]) if r[15] is not None else None
    maker = rows.ManufacturerRow(*r[_F]) if r[18] is not None else None
    return IdentityRows(entry, model, maker)
