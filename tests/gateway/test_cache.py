"""The response cache served through the real endpoint: visibility, never mutations, invalidation by the listener."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from gateway import cache as gateway_cache
from gateway.cache import current_generation, serve
from gateway.cache_store import ResponseCache
from gateway.data_version import DataVersionListener
from gateway.database import DatabaseHandle
from gateway.graphql import READ_AFTER_HEADER, GraphQLEndpoint, route_reads
from gateway.notifier import Notifier
from gateway.resources import Resources
from gateway.settings import load_settings
from gateway.trusted_documents import TrustedDocuments, sha256
from loaders import trusted_documents
from loaders.db import Db
from loaders.trusted_documents import TrustedDocumentRow
from resolvers.principal import ANONYMOUS, Principal
from schema.introspection import Introspection
from schema.limits import SchemaLimits
from schema.schema import build_schema
from tests.builders import SECAS, SUPPLIER, Builder, publisher
from tests.conftest import fresh_database

# --- through the real endpoint, schema and database ---------------------------------------------------

# a valid token that carries no fir scope: it sees what an anonymous caller sees, but is not anonymous
SCOPELESS = Principal(subject="someone", scopes=frozenset({"openid"}))
PRINCIPALS = {"anonymous": ANONYMOUS, "supplier": SUPPLIER, "secas": SECAS, "scopeless": SCOPELESS}
DEVICE = """query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl lineage { version } } }"""
IDENT = {
    "manufacturerId": "106c",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000001",
}
NAME = '{ manufacturer(manufacturerId: "106C") { name } }'


@pytest.fixture
async def seeded_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    async with pool.acquire() as conn:
        b = Builder(conn)
        for mid in ("106C", "2000"):
            await b.manufacturer(mid)
            await b.model(mid, "4331", "CHF")
        await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01")
        await b.release("106C", "4331", "00AC", "00000002", date="2021-01-01", upgradable_from=("00000001",))
        await b.release(
            "106C", "4331", "00AC", "00000003", date="2022-01-01", status="SUBMITTED", cpl_status=None
        )
    return pool


def in_process_app(
    resources: Resources, limits: SchemaLimits | None = None
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The cache in front of the real endpoint; the caller is chosen by name (x-as) instead of a token."""
    endpoint = GraphQLEndpoint(build_schema(limits), graphql_ide=None)

    async def strawberry_view(scope: Scope, receive: Receive, send: Send) -> None:
        await GraphQL.__call__(endpoint, scope, receive, send)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        as_name = dict(scope["headers"]).get(b"x-as", b"anonymous").decode()
        principal = PRINCIPALS.get(as_name) or publisher(as_name.removeprefix("publisher-"))
        scope["state"] = {"resources": resources, "principal": principal}
        token = dict(scope["headers"]).get(READ_AFTER_HEADER)
        await route_reads(resources, Request(scope), token.decode() if token else None)
        await serve(resources, principal, scope, receive, send, strawberry_view)

    return app


@pytest.fixture
async def resources(seeded_pool: asyncpg.Pool) -> Resources:
    cache = ResponseCache(max_entries=1000, max_bytes=1 << 24)
    return Resources(settings=load_settings(env_file=None), pool=seeded_pool, cache=cache)


@pytest.fixture
async def client(resources: Resources) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=in_process_app(resources))
    async with httpx.AsyncClient(transport=transport, base_url="http://fir.test") as c:
        yield c


async def ask(
    client: httpx.AsyncClient, query: str, as_: str = "anonymous", **variables: Any
) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers={"x-as": as_})


async def test_reader_and_anonymous_never_share_an_entry(client: httpx.AsyncClient) -> None:
    anonymous = await ask(client, DEVICE, id=IDENT)
    assert {e["extensions"]["code"] for e in anonymous.json()["errors"]} == {"FORBIDDEN"}
    reader = await ask(client, DEVICE, "supplier", id=IDENT)
    assert reader.headers["x-fir-cache"] == "miss" and "errors" not in reader.json()
    again = await ask(client, DEVICE, "supplier", id=IDENT)
    assert again.headers["x-fir-cache"] == "hit" and again.content == reader.content
    anonymous_again = await ask(client, DEVICE, id=IDENT)
    assert anonymous_again.headers["x-fir-cache"] == "hit" and anonymous_again.content == anonymous.content


@pytest.mark.parametrize("first", ["scopeless", "anonymous"])
async def test_a_token_without_fir_scopes_and_anonymous_never_share_an_entry(
    resources: Resources, first: str
) -> None:
    """Introspection (FIR_INTROSPECTION=authenticated, `fir serve`'s default) needs a token, any token:
    neither caller may be answered the other's stored answer, in either order."""
    app = in_process_app(resources, SchemaLimits(introspection=Introspection.AUTHENTICATED))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fir.test") as client:
        await _introspection_apart(client, first)


async def _introspection_apart(client: httpx.AsyncClient, first: str) -> None:
    query = "{ __schema { queryType { name } } }"
    answers = {}
    for as_ in (first, "anonymous" if first == "scopeless" else "scopeless"):
        answers[as_] = await ask(client, query, as_)
        assert answers[as_].headers["x-fir-cache"] == "miss"
    assert answers["scopeless"].json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert [e["extensions"]["code"] for e in answers["anonymous"].json()["errors"]] == ["FORBIDDEN"]
    again = await ask(client, query, "anonymous")
    assert again.headers["x-fir-cache"] == "hit" and again.content == answers["anonymous"].content


async def test_two_manufacturers_publishers_never_share_an_entry(
    client: httpx.AsyncClient, seeded_pool: asyncpg.Pool
) -> None:
    draft = await seeded_pool.fetchval("select id from firmware_releases where status = 'SUBMITTED'")
    query = "query($id: ID!) { firmwareRelease(id: $id) { version status } }"
    for _ in range(2):
        owner = await ask(client, query, "publisher-106C", id=str(draft))
        other = await ask(client, query, "publisher-2000", id=str(draft))
        assert owner.json()["data"]["firmwareRelease"] == {"version": "00000003", "status": "SUBMITTED"}
        assert other.json()["data"]["firmwareRelease"] is None
    assert owner.headers["x-fir-cache"] == other.headers["x-fir-cache"] == "hit"


async def test_get_requests_are_cached_like_posts(client: httpx.AsyncClient) -> None:
    params = {"query": NAME}
    assert (await client.get("/graphql", params=params)).headers["x-fir-cache"] == "miss"
    hit = await client.get("/graphql", params=params)
    assert hit.headers["x-fir-cache"] == "hit" and hit.json()["data"]["manufacturer"]["name"]


async def test_mutations_are_never_cached(client: httpx.AsyncClient, seeded_pool: asyncpg.Pool) -> None:
    mutation = 'mutation { upsertManufacturer(input: {manufacturerId: "106C", name: "Renamed"}) { name } }'
    before = await seeded_pool.fetchval("select version from data_version")
    for _ in range(2):
        response = await ask(client, mutation, "secas")
        assert response.json() == {"data": {"upsertManufacturer": {"name": "Renamed"}}}
        assert "x-fir-cache" not in response.headers
    # statement-level triggers bump the version for every write statement, so only "moved" is stable
    assert await seeded_pool.fetchval("select version from data_version") > before


async def test_without_a_healthy_listener_every_request_checks_the_version(
    client: httpx.AsyncClient, seeded_pool: asyncpg.Pool
) -> None:
    assert (await ask(client, NAME)).headers["x-fir-cache"] == "miss"
    assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"
    await seeded_pool.execute("update manufacturers set name = 'Changed' where manufacturer_id = '106C'")
    fresh = await ask(client, NAME)
    assert fresh.headers["x-fir-cache"] == "miss"
    assert fresh.json()["data"]["manufacturer"]["name"] == "Changed"


# --- the listener ---------------------------------------------------------------------------------------


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def listener(resources: Resources, db_url: str) -> AsyncIterator[DataVersionListener]:
    notifier = Notifier(db_url, min_backoff=0.5, max_backoff=1.0)
    found = DataVersionListener(notifier, resources.cache)
    await notifier.start()
    resources.listener = found
    try:
        yield found
    finally:
        await notifier.aclose()


async def test_listener_clears_on_notify(
    client: httpx.AsyncClient, listener: DataVersionListener, seeded_pool: asyncpg.Pool
) -> None:
    cache = listener.cache
    assert listener.healthy and cache.version == await seeded_pool.fetchval(
        "select version from data_version"
    )
    await ask(client, NAME)
    assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"
    generation = cache.generation
    await seeded_pool.execute("update manufacturers set name = 'Notified' where manufacturer_id = '106C'")
    await until(lambda: cache.generation != generation)
    assert len(cache) == 0
    fresh = await ask(client, NAME)
    assert (
        fresh.headers["x-fir-cache"] == "miss" and fresh.json()["data"]["manufacturer"]["name"] == "Notified"
    )


async def test_healthy_listener_costs_no_query(
    listener: DataVersionListener, resources: Resources, seeded_pool: asyncpg.Pool
) -> None:
    # With the pool closed to new work a fallback check would fail: a generation proves none ran.
    resources.pool = None
    fresh = await current_generation(resources)
    assert fresh is not None and fresh.generation == listener.cache.generation
    assert fresh.version == listener.cache.version
    resources.pool = seeded_pool


async def test_listener_reconnects_and_rechecks_after_its_connection_is_killed(
    client: httpx.AsyncClient, listener: DataVersionListener, seeded_pool: asyncpg.Pool
) -> None:
    cache = listener.cache
    await ask(client, NAME)
    assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"
    notifier = listener.notifier
    assert notifier.connection is not None
    pid = notifier.connection.get_server_pid()
    async with seeded_pool.acquire() as conn:
        assert await conn.fetchval("select pg_terminate_backend($1)", pid)
        await until(lambda: not listener.healthy)
        # committed while nobody listens: its notification is lost for good
        await conn.execute("update manufacturers set name = 'In the gap' where manufacturer_id = '106C'")
        written = await conn.fetchval("select version from data_version")
    assert cache.version == written - 1 and len(cache) == 1  # nothing told the cache yet
    await until(lambda: listener.healthy, seconds=10)
    assert notifier.connections == 2 and notifier.connection.get_server_pid() != pid
    assert cache.version == written and len(cache) == 0  # the re-read after LISTEN caught it
    fresh = await ask(client, NAME)
    assert fresh.json()["data"]["manufacturer"]["name"] == "In the gap"
    await seeded_pool.execute("update manufacturers set name = 'After' where manufacturer_id = '106C'")
    await until(lambda: cache.version == written + 1)  # and notifications flow again


RENAME = 'mutation { upsertManufacturer(input: {manufacturerId: "106C", name: "Mine"}) { name } }'


# How a mutation may reach the endpoint: the cache keys the first two; it cannot read the others (client
# extensions such as Apollo's clientLibrary, a multipart Accept) and passes them on without a look.
SENT = ["as text", "by id", "with extensions", "accepting multipart"]


@pytest.mark.parametrize("sent", SENT)
async def test_a_mutation_clears_its_own_process_before_the_notification_arrives(
    client: httpx.AsyncClient, resources: Resources, pg_server: DatabaseHandle, template_db: str, sent: str
) -> None:
    # A healthy listener on another database never hears this one: only the mutation itself can clear.
    deaf = Notifier(await fresh_database(pg_server.url, template_db))
    resources.listener = DataVersionListener(deaf, resources.cache)
    await deaf.start()
    try:
        await ask(client, NAME)
        assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"
        body: dict[str, Any] = {"query": RENAME}
        headers = {"x-as": "secas"}
        if sent == "by id":
            body = {"documentId": await registered(resources, RENAME)}
        elif sent == "with extensions":
            body["extensions"] = {"clientLibrary": {"name": "@apollo/client", "version": "4.0.0"}}
        elif sent == "accepting multipart":
            headers["accept"] = "multipart/mixed;deferSpec=20220824, application/json"
        assert "errors" not in (await client.post("/graphql", json=body, headers=headers)).json()
        fresh = await ask(client, NAME)
        assert fresh.headers["x-fir-cache"] == "miss"
        assert fresh.json()["data"]["manufacturer"]["name"] == "Mine"
    finally:
        await deaf.aclose()


async def test_a_write_through_another_process_is_read_back_by_echoing_its_token(
    client: httpx.AsyncClient, resources: Resources, pg_server: DatabaseHandle, template_db: str
) -> None:
    """Workers and gateway replicas without read replicas: the process a client reads through next may
    not have heard of its write yet. The token every committed mutation hands back (FIR-Read-After)
    passes that process's cache by; without read replicas it was not handed back at all."""
    deaf = Notifier(await fresh_database(pg_server.url, template_db))
    resources.listener = DataVersionListener(deaf, resources.cache)
    await deaf.start()
    try:
        written = await client.post("/graphql", json={"query": RENAME}, headers={"x-as": "secas"})
        token = written.headers["fir-read-after"]
        assert token.split("; version=")[1] == str(
            await resources.pool.fetchval("select version from data_version")
        )
        await ask(client, NAME)
        assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"
        # written through another process: this one never hears of it (a deaf listener)
        await resources.pool.execute(
            "update manufacturers set name = 'Elsewhere' where manufacturer_id = '106C'"
        )
        version = await resources.pool.fetchval("select version from data_version")
        elsewhere = f"0/0; version={version}"
        echoed = await client.post("/graphql", json={"query": NAME}, headers={"fir-read-after": elsewhere})
        assert echoed.headers.get("x-fir-cache") != "hit"  # passed by: answered by the database
        assert echoed.json()["data"]["manufacturer"]["name"] == "Elsewhere"
        unechoed = await ask(client, NAME)  # without it: what this process has heard of
        assert unechoed.headers["x-fir-cache"] == "hit"
    finally:
        await deaf.aclose()


async def test_a_refused_mutation_does_not_clear_the_cache(client: httpx.AsyncClient) -> None:
    """Anyone may send a mutation; only one that wrote may clear everyone's cached answers."""
    await ask(client, NAME)
    assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"
    for as_ in ("anonymous", "supplier"):  # no token; a token without fir:admin
        refused = (await ask(client, RENAME, as_)).json()
        assert refused["data"] is None and refused["errors"]
        assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"
    assert "errors" not in (await ask(client, RENAME, "secas")).json()
    fresh = await ask(client, NAME)
    assert fresh.headers["x-fir-cache"] == "miss" and fresh.json()["data"]["manufacturer"]["name"] == "Mine"


# --- requests by id (trusted documents) ---------------------------------------------------------------


async def registered(resources: Resources, body: str) -> str:
    document_id = sha256(body)
    row = TrustedDocumentRow(document_id, body, None, None)
    await trusted_documents.register(Db(resources.pool), [row], "test")
    return document_id


async def post(client: httpx.AsyncClient, body: dict[str, Any], as_: str = "supplier") -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"x-as": as_})


async def test_requests_by_id_share_the_entry_of_their_document(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    document_id = await registered(resources, DEVICE)
    variables = {"id": IDENT}
    first = await post(client, {"documentId": document_id, "variables": variables})
    assert first.headers["x-fir-cache"] == "miss" and first.json()["data"]["device"]["onCpl"] is True
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": document_id}}
    for body in (
        {"documentId": f"sha256:{document_id}", "variables": variables},
        {"extensions": persisted, "variables": variables},
        {"query": DEVICE, "variables": variables},  # the same document as text: the same answer
    ):
        hit = await post(client, body)
        assert hit.headers["x-fir-cache"] == "hit" and hit.content == first.content, body
    gets = (
        {"documentId": document_id, "variables": orjson.dumps(variables).decode()},
        {"extensions": orjson.dumps(persisted).decode(), "variables": orjson.dumps(variables).decode()},
    )
    for params in gets:
        hit = await client.get("/graphql", params=params, headers={"x-as": "supplier"})
        assert hit.headers["x-fir-cache"] == "hit" and hit.content == first.content, params
    other = await post(
        client, {"documentId": document_id, "variables": {"id": {**IDENT, "firmwareVersion": "2"}}}
    )
    assert other.headers["x-fir-cache"] == "miss"  # the variables are part of the key, as for text
    anonymous = await post(client, {"documentId": document_id, "variables": variables}, "anonymous")
    assert anonymous.headers["x-fir-cache"] == "miss"  # and so is the caller's visibility


async def test_text_sent_beside_a_registered_id_is_ignored_not_cached_as_its_answer(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    """The endpoint dropped a documentId sent with query text and ran the text, which the cache
    stored under the registered document: any supplier could poison the entry every other caller
    asking by that id was answered from. The registered body runs, as the README says."""
    document_id = await registered(resources, DEVICE)
    evil = "query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl: isLatest } }"
    for body in (
        {"query": evil, "documentId": document_id, "variables": {"id": IDENT}},
        {"query": "mutation { __typename }", "documentId": document_id, "variables": {"id": IDENT}},
    ):
        sent = await post(client, body)
        assert sent.json()["data"]["device"]["onCpl"] is True, sent.text
    by_id = await post(client, {"documentId": document_id, "variables": {"id": IDENT}})
    assert by_id.headers["x-fir-cache"] == "hit" and by_id.json()["data"]["device"]["onCpl"] is True
    params = {"query": evil, "documentId": document_id, "variables": orjson.dumps({"id": IDENT}).decode()}
    got = await client.get("/graphql", params=params, headers={"x-as": "supplier"})
    assert got.json()["data"]["device"]["onCpl"] is True, got.text


async def test_what_the_endpoint_refuses_or_may_read_differently_is_not_cached(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    unknown = {"documentId": "0" * 64, "variables": {"id": IDENT}}
    malformed = {"documentId": "not-a-hash"}
    other_extension = {
        "extensions": {
            "persistedQuery": {"version": 1, "sha256Hash": await registered(resources, NAME)},
            "x": 1,
        }
    }
    for body, code in (
        (unknown, "PERSISTED_QUERY_NOT_FOUND"),
        (malformed, "BAD_USER_INPUT"),
        (other_extension, None),
    ):
        for _ in range(2):
            answer = await post(client, body)
            assert "x-fir-cache" not in answer.headers, body  # passed by: the endpoint answered
            errors = answer.json().get("errors") or [{}]
            assert errors[0].get("extensions", {}).get("code") == code, answer.json()


async def test_a_caller_restricted_to_trusted_documents_is_never_answered_text_from_the_cache(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    resources.trusted_documents = TrustedDocuments(frozenset({"read"}))
    document_id = await registered(resources, DEVICE)
    by_id = {"documentId": document_id, "variables": {"id": IDENT}}
    assert (await post(client, by_id)).headers["x-fir-cache"] == "miss"
    assert (await post(client, by_id)).headers["x-fir-cache"] == "hit"
    # the same document as text: the entry is there, yet the endpoint refuses a restricted caller's text
    text = await post(client, {"query": DEVICE, "variables": {"id": IDENT}})
    assert "x-fir-cache" not in text.headers
    assert text.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    # an unrestricted caller of another visibility sends text as before
    assert (await ask(client, NAME)).headers["x-fir-cache"] == "miss"
    assert (await ask(client, NAME)).headers["x-fir-cache"] == "hit"


async def test_variables_nested_past_what_the_key_can_write_are_the_endpoints_to_refuse(
    client: httpx.AsyncClient,
) -> None:
    """orjson reads 1,023 levels and writes about 254: the key's dump raised, and the answer was a
    plain-text 500 for anyone, GET or POST."""
    nested: Any = 1
    for _ in range(300):
        nested = [nested]
    answer = await post(client, {"query": "query($r: [Int]) { __typename }", "variables": {"r": nested}})
    assert answer.status_code != 500 and "x-fir-cache" not in answer.headers, answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] in {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}


async def test_a_long_document_is_parsed_for_its_key_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1 MB document (one string literal: one token) held the loop 0.3 s while the cache parsed and
    printed it for its key; the endpoint parses such a document on a thread, and so does the cache."""
    threads: list[bool] = []
    real = gateway_cache.parse_document

    def watched(query: str, max_tokens: int) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(query, max_tokens)

    monkeypatch.setattr(gateway_cache, "parse_document", watched)
    long = '{ cplIssue(version: "' + "9" * 100_000 + '") { version } }'
    answer = await post(client, {"query": long})
    assert answer.status_code == 200, answer.text
    assert threads == [False]
