"""Trusted-document bodies remembered in-process only while unregistrations are heard (migration 0011)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from gateway.notifier import Notifier
from gateway.trusted_documents import Refused, TrustedDocuments, sha256
from loaders.db import Db
from loaders.trusted_documents import TrustedDocumentRow
from resolvers.principal import Principal
from resolvers.trusted_documents import register, unregister
from tests.gateway.test_notifier import until

BODY = "{ __typename }"
ID = sha256(BODY)
READER = Principal("portal", frozenset({"fir:read"}))


@pytest.fixture
async def notifier(db_url: str) -> AsyncIterator[Notifier]:
    found = Notifier(db_url, min_backoff=0.05, max_backoff=0.2)
    yield found
    await found.aclose()


async def registered(db: Db) -> None:
    await register(db, [TrustedDocumentRow(ID, BODY, "Typename", "query")], "portal-v1", "test")


async def test_an_unregistered_id_is_forgotten_at_commit(db: Db, notifier: Notifier) -> None:
    trusted = TrustedDocuments(frozenset({"read"}))
    trusted.listen(notifier)
    await notifier.start()
    await registered(db)
    assert await trusted.document(db, READER, ID, None) == BODY
    assert ID in trusted._bodies  # remembered while the notifier listens
    removed = await unregister(db, [ID], None, "test")
    assert [d.id for d in removed] == [ID]
    await until(lambda: ID not in trusted._bodies)
    with pytest.raises(Refused) as refused:
        await trusted.document(db, READER, ID, None)
    assert refused.value.code == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_operators_own_delete_is_heard_too(db: Db, pool: asyncpg.Pool, notifier: Notifier) -> None:
    trusted = TrustedDocuments(frozenset({"read"}))
    trusted.listen(notifier)
    await notifier.start()
    await registered(db)
    assert await trusted.body(db, ID) == BODY
    await pool.execute("truncate trusted_documents")
    await until(lambda: not trusted._bodies)
    assert await trusted.body(db, ID) is None


async def test_nothing_is_remembered_without_a_healthy_notifier(
    db: Db, pool: asyncpg.Pool, notifier: Notifier
) -> None:
    alone = TrustedDocuments(frozenset({"read"}))
    await registered(db)
    assert await alone.body(db, ID) == BODY
    assert not alone._bodies  # no notifier: every lookup reads the table
    trusted = TrustedDocuments(frozenset({"read"}))
    trusted.listen(notifier)
    await notifier.start()
    assert notifier.connection is not None
    await pool.execute("select pg_terminate_backend($1)", notifier.connection.get_server_pid())
    await until(lambda: not trusted.remembering)
    assert await trusted.body(db, ID) == BODY
    assert not trusted._bodies
    await until(lambda: trusted.remembering)  # reconnected and synced: remembering again
    assert await trusted.body(db, ID) == BODY
    assert ID in trusted._bodies


async def test_unregistering_is_audited_and_by_manifest(db: Db, pool: asyncpg.Pool) -> None:
    await registered(db)
    other = "{ manufacturers(first: 1) { edges { node { name } } } }"
    await register(db, [TrustedDocumentRow(sha256(other), other, None, "query")], "portal-v2", "test")
    assert await unregister(db, [], "nobody", "test") == []
    events = "select count(*) from audit_events where action = 'trustedDocuments.unregister'"
    assert await pool.fetchval(events) == 0  # nothing removed, nothing written
    removed = await unregister(db, [], "portal-v1", "secas")
    assert [(d.id, d.name) for d in removed] == [(ID, "Typename")]
    row = await pool.fetchrow(
        "select actor, entity_id, before from audit_events where action = 'trustedDocuments.unregister'"
    )
    assert row is not None and row["actor"] == "secas" and row["entity_id"] == "portal-v1"
    assert row["before"] == {"documents": [{"id": ID, "name": "Typename"}]}
    assert await pool.fetchval("select count(*) from trusted_documents") == 1
