"""firmwareReleased through the schema, fed by a real LISTEN connection on the test database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from gateway.notifier import Notifier
from loaders.release_writes import PUBLISHED_CHANNEL
from resolvers.events import ReleaseEvents
from resolvers.principal import ANONYMOUS, Principal
from schema.schema import FirSchema, build_schema
from tests.builders import SECAS, SUPPLIER, Builder, context_for, execute, image_hash, publisher

SUBSCRIBE = """subscription($m: [String!], $models: [String!]) {
  firmwareReleased(manufacturerIds: $m, modelIds: $models) { id version status manufacturerId }
}"""


@pytest.fixture
async def notifier(db_url: str) -> AsyncIterator[Notifier]:
    found = Notifier(db_url, min_backoff=0.05)
    try:
        yield found
    finally:
        await found.aclose()


@pytest.fixture
async def events(notifier: Notifier) -> AsyncIterator[ReleaseEvents]:
    """Wired as the gateway's lifespan wires them: the process's one notifier feeds the events."""
    ev = ReleaseEvents()
    notifier.listen(PUBLISHED_CHANNEL, ev.deliver)
    await notifier.start()
    try:
        yield ev
    finally:
        ev.stop()


@pytest.fixture
async def models(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        for mid, model in (("106C", "4331"), ("1063", "4772"), ("1063", "4331")):
            await b.manufacturer(mid)
            await b.model(mid, model, "ESME")


async def _subscribe(
    schema: FirSchema, pool: asyncpg.Pool, events: ReleaseEvents, principal: Principal, **variables: Any
) -> Any:
    ctx = context_for(pool, principal)
    ctx.events = events
    return await schema.subscribe(SUBSCRIBE, variable_values=variables or None, context_value=ctx)


async def _publish(pool: asyncpg.Pool, mid: str, model: str, fw: str) -> int:
    """A release published by another connection, as a CPL import on another replica would."""
    async with pool.acquire() as conn, conn.transaction():
        release_id: int = await conn.fetchval(
            "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
            " image_hash, status, published_at) values ($1, $2, '00AC', $3, $4, 'PUBLISHED', now())"
            " returning id",
            mid,
            model,
            fw,
            image_hash(fw),
        )
        await conn.execute("select pg_notify('fir_release_published', $1)", str(release_id))
    return release_id


async def _until_subscribed(events: ReleaseEvents, count: int = 1) -> None:
    async with asyncio.timeout(5):
        while events.subscribers < count:
            await asyncio.sleep(0.01)


async def test_publish_elsewhere_reaches_subscriber(
    pool: asyncpg.Pool, events: ReleaseEvents, models: None
) -> None:
    stream = await _subscribe(build_schema(), pool, events, SUPPLIER)
    first = asyncio.ensure_future(anext(stream))
    await _until_subscribed(events)
    release_id = await _publish(pool, "106C", "4331", "00000001")
    async with asyncio.timeout(5):
        result = await first
    assert result.errors is None, result.errors
    assert result.data["firmwareReleased"] == {
        "id": str(release_id),
        "version": "00000001",
        "status": "PUBLISHED",
        "manufacturerId": "106C",
    }
    await stream.aclose()
    assert events.subscribers == 0


async def test_filters_by_manufacturer_and_model(
    pool: asyncpg.Pool, events: ReleaseEvents, models: None
) -> None:
    stream = await _subscribe(build_schema(), pool, events, SUPPLIER, m=["1063"], models=["4772"])
    first = asyncio.ensure_future(anext(stream))
    await _until_subscribed(events)
    await _publish(pool, "106C", "4331", "00000001")  # another manufacturer: filtered out
    await _publish(pool, "1063", "4331", "00000003")  # the manufacturer asked, another model: out
    wanted = await _publish(pool, "1063", "4772", "00000002")
    async with asyncio.timeout(5):
        result = await first
    assert result.data["firmwareReleased"]["id"] == str(wanted)
    await stream.aclose()


async def test_a_model_id_alone_matches_it_at_every_manufacturer(
    pool: asyncpg.Pool, events: ReleaseEvents, models: None
) -> None:
    """A model id is unique only within its manufacturer: modelIds alone is every manufacturer's model
    of that id, and with manufacturerIds it is that manufacturer's only (the filters combine with AND)."""
    alone = await _subscribe(build_schema(), pool, events, SUPPLIER, models=["4331"])
    exact = await _subscribe(build_schema(), pool, events, SUPPLIER, m=["106C"], models=["4331"])
    firsts = [asyncio.ensure_future(anext(alone)), asyncio.ensure_future(anext(exact))]
    await _until_subscribed(events, 2)
    other = await _publish(pool, "1063", "4331", "00000001")
    own = await _publish(pool, "106C", "4331", "00000002")
    async with asyncio.timeout(5):
        first_alone, first_exact = await asyncio.gather(*firsts)
        second_alone = await anext(alone)
    assert [first_alone.data["firmwareReleased"]["id"], second_alone.data["firmwareReleased"]["id"]] == [
        str(other),
        str(own),
    ]
    assert first_exact.data["firmwareReleased"]["id"] == str(own)
    await alone.aclose()
    await exact.aclose()


async def test_anonymous_is_refused(pool: asyncpg.Pool, events: ReleaseEvents) -> None:
    stream = await _subscribe(build_schema(), pool, events, ANONYMOUS)
    async with asyncio.timeout(5):
        result = await anext(stream)
    assert result.data is None
    [error] = result.errors
    assert error.extensions["code"] == "FORBIDDEN"
    assert events.subscribers == 0


async def test_malformed_filter_is_bad_user_input(pool: asyncpg.Pool, events: ReleaseEvents) -> None:
    stream = await _subscribe(build_schema(), pool, events, SUPPLIER, m=["106"])
    async with asyncio.timeout(5):
        result = await anext(stream)
    [error] = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "manufacturerIds[0]"}


async def test_others_drafts_are_not_streamed(
    pool: asyncpg.Pool, events: ReleaseEvents, models: None
) -> None:
    """Notices for releases the caller may not see are skipped: another maker's submission, and (fir:publish
    without fir:read) another maker's publication; its own publication arrives."""
    stream = await _subscribe(build_schema(), pool, events, publisher("1063"))
    first = asyncio.ensure_future(anext(stream))
    await _until_subscribed(events)
    async with pool.acquire() as conn:
        hidden = await conn.fetchval(
            "insert into firmware_releases (manufacturer_id, model_id, hardware_version, firmware_version,"
            " image_hash, status) values ('106C', '4331', '00AC', '0000000A', $1, 'SUBMITTED') returning id",
            image_hash("hidden"),
        )
        await conn.execute("select pg_notify('fir_release_published', $1)", str(hidden))
    await _publish(pool, "106C", "4331", "0000000B")
    own = await _publish(pool, "1063", "4772", "0000000C")
    async with asyncio.timeout(5):
        result = await first
    assert result.data["firmwareReleased"]["id"] == str(own)
    await stream.aclose()


async def test_listener_reconnects_after_losing_its_connection(
    pool: asyncpg.Pool, events: ReleaseEvents, notifier: Notifier, models: None
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where pid <> pg_backend_pid() and application_name = 'fir-notifier'"
        )
    async with asyncio.timeout(10):
        while notifier.connections < 2 or not notifier.healthy:
            await asyncio.sleep(0.01)
    stream = await _subscribe(build_schema(), pool, events, SUPPLIER)
    first = asyncio.ensure_future(anext(stream))
    await _until_subscribed(events)
    release_id = await _publish(pool, "106C", "4331", "00000003")
    async with asyncio.timeout(5):
        result = await first
    assert result.data["firmwareReleased"]["id"] == str(release_id)
    await stream.aclose()


async def test_mutations_that_publish_notify(pool: asyncpg.Pool, events: ReleaseEvents, models: None) -> None:
    """A submission published at once and one published by listCplEntry both reach the subscriber."""
    schema = build_schema()
    stream = await _subscribe(schema, pool, events, SUPPLIER)
    first = asyncio.ensure_future(anext(stream))
    await _until_subscribed(events)
    ident = {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "0000000C",
    }
    submitted = await execute(
        schema,
        pool,
        "mutation($i: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $i) { id status } }",
        publisher("106C"),
        i=ident | {"imageHash": image_hash("c")},
    )
    assert submitted.data["submitFirmwareRelease"]["status"] == "SUBMITTED"
    listed = await execute(
        schema,
        pool,
        "mutation($e: CplEntryInput!) { listCplEntry(input: $e) { number } }",
        SECAS,
        e=ident | {"number": 7, "deviceType": "ESME", "imageHash": image_hash("c")},
    )
    assert listed.errors is None, listed.errors
    async with asyncio.timeout(5):
        result = await first
    assert result.data["firmwareReleased"]["id"] == submitted.data["submitFirmwareRelease"]["id"]
    assert result.data["firmwareReleased"]["status"] == "PUBLISHED"
    await stream.aclose()
