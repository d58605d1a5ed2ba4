"""The device statement's two forms: one identity by scalar parameters, any number by arrays, the same rows."""

from __future__ import annotations

import datetime as dt
import itertools

import asyncpg
import pytest

from loaders.db import Db
from loaders.devices import DeviceAsk, device_rows, device_sql
from loaders.releases import ReleasesByModelHwLoader
from tests.builders import Builder

MAKER, MODEL, HW = "1001", "0001", "0001"
IDENTITIES = [
    (MAKER, MODEL, HW, "00000002"),  # listed, with a release upgradable from 00000001
    (MAKER, MODEL, HW, "0000FFFF"),  # not listed: its model's releases all the same
    (MAKER, MODEL, "0002", "00000001"),  # a hardware version with no release
    (MAKER, "0099", HW, "00000001"),  # an unknown model of a known manufacturer
    ("9999", MODEL, HW, "00000001"),  # an unknown manufacturer
]
ASKS = [DeviceAsk(*flags) for flags in itertools.product((False, True), repeat=3)]


@pytest.fixture
async def model(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        await b.manufacturer(MAKER)
        await b.model(MAKER, MODEL)
        await b.release(MAKER, MODEL, HW, "00000001", date="2021-01-01")
        await b.release(MAKER, MODEL, HW, "00000002", date="2022-01-01", upgradable_from=("00000001",))
        await b.release(MAKER, MODEL, HW, "00000003", date="2023-01-01", status="DRAFT", cpl_status=None)
        await b.entry(MAKER, MODEL, HW, "00000004", status="REMOVED")


def array_args(identity: tuple[str, str, str, str], ask: DeviceAsk) -> list[list[str]]:
    args = [[part] for part in identity] + [[part] for part in identity[:3]]
    return [*args, [identity[0]]] if ask.contacts else args


@pytest.mark.parametrize("ask", ASKS, ids=repr)
@pytest.mark.parametrize("identity", IDENTITIES, ids="/".join)
async def test_the_scalar_form_reads_the_rows_the_array_form_reads(
    pool: asyncpg.Pool, model: None, identity: tuple[str, str, str, str], ask: DeviceAsk
) -> None:
    db = Db(pool)
    arrays = await db.fetch_keyed(device_sql(ask), *array_args(identity, ask))
    scalars = await db.fetch_keyed(device_sql(ask, single=True), *identity)
    assert [tuple(r) for r in scalars] == [tuple(r) for r in arrays]
    assert len(arrays) > 1 or identity[0] == "9999" or identity[2] == "0002" or identity[1] == "0099"


async def test_one_identity_with_its_own_keys_takes_the_scalar_form(pool: asyncpg.Pool, model: None) -> None:
    identity = IDENTITIES[0]
    ask = DeviceAsk(contacts=True, release_entries=True, cpl_versions=True)
    db = Db(pool)
    found = await device_rows(db, [identity], [identity[:3]], [identity[0]], ask)
    assert db.log.statements == [device_sql(ask, single=True)]
    assert [r.firmware_version for r in found.releases[identity[:3]]] == ["00000001", "00000002", "00000003"]
    assert [c.email for c in found.contacts[MAKER]] == ["firmware@1001.example.com"]
    assert found.cpl_versions[identity[:3]] == {"00000001", "00000002", "00000004"}
    assert found.identities[0].cpl_entry is not None and found.identities[0].model is not None


@pytest.mark.parametrize(
    ("identities", "model_keys", "contacts_of"),
    [
        ([IDENTITIES[0]], [], []),  # a caller who may not see the FIR: no model key asked
        ([IDENTITIES[0], IDENTITIES[1]], [IDENTITIES[0][:3]], [MAKER]),
        ([IDENTITIES[0]], [IDENTITIES[2][:3]], [MAKER]),  # another model key than the identity's own
    ],
)
async def test_anything_else_takes_the_array_form(
    pool: asyncpg.Pool,
    model: None,
    identities: list[tuple[str, str, str, str]],
    model_keys: list[tuple[str, str, str]],
    contacts_of: list[str],
) -> None:
    ask = DeviceAsk(contacts=True)
    db = Db(pool)
    found = await device_rows(db, identities, model_keys, contacts_of, ask)
    assert db.log.statements == [device_sql(ask)]
    assert len(found.identities) == len(identities)
    assert list(found.releases) == model_keys


@pytest.mark.parametrize(
    "session",
    [None, ("Asia/Kolkata", "SQL, DMY"), ("America/St_Johns", "German")],
    ids=["default", "IST", "NST"],
)
async def test_release_times_arrive_as_the_releases_loader_reads_them(
    pool: asyncpg.Pool, model: None, session: tuple[str, str] | None
) -> None:
    """The statement sends a release's times as text (loaders.devices.utc_text): the rows hold the very
    datetimes asyncpg decodes from the columns (UTC, to the microsecond), whatever the session's
    TimeZone and DateStyle, and a time that is null stays null."""
    async with pool.acquire() as conn:
        await conn.execute(
            "update firmware_releases set submitted_at = '2021-03-28 00:59:59.999999+00',"
            " status = case when firmware_version = '00000001' then 'WITHDRAWN' else status end,"
            " withdrawn_at = case when firmware_version = '00000001' then '1999-12-31 23:59:59+00'::timestamptz end,"
            " published_at = case when firmware_version = '00000003' then null"
            "  else '2022-10-30 01:30:00.000001+00'::timestamptz end"
        )
    async with pool.acquire() as conn:
        if session is not None:
            await conn.execute(f"set timezone = '{session[0]}'; set datestyle = '{session[1]}'")
        try:
            db = Db(pool)
            db._conn = conn  # this session's settings, as a transaction's connection is used
            found = await device_rows(db, [IDENTITIES[0]], [IDENTITIES[0][:3]], [], DeviceAsk())
            loaded = ReleasesByModelHwLoader(Db(pool))
            expected = (await loaded.batch_load_fn([IDENTITIES[0][:3]]))[0]
        finally:
            await conn.execute("reset timezone; reset datestyle")
    got = found.releases[IDENTITIES[0][:3]]
    assert got == expected and len(got) == 3
    times = [(r.submitted_at, r.published_at, r.withdrawn_at) for r in got]
    assert [t.isoformat() if t else None for r in times for t in r] == [
        t.isoformat() if t else None
        for r in expected
        for t in (r.submitted_at, r.published_at, r.withdrawn_at)
    ]
    assert all(t.tzinfo is dt.UTC for r in times for t in r if t is not None)
    assert times[0] == (
        dt.datetime(2021, 3, 28, 0, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2022, 10, 30, 1, 30, 0, 1, tzinfo=dt.UTC),
        dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    )
    assert times[2][1:] == (None, None)  # the DRAFT: neither published nor withdrawn
