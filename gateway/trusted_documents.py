"""Trusted documents: requests by id (persistedQuery.sha256Hash, documentId), refused before parsing."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from gateway.notifier import Notifier
from loaders import trusted_documents as store
from loaders.db import Db
from loaders.trusted_documents import CHANNEL
from resolvers.principal import ADMIN, PUBLISH, READ, Principal

_SHA256 = re.compile(r"[0-9a-f]{64}")


def principal_class(p: Principal) -> str:
    """The strongest role a caller holds: a SECAS token that also has fir:read is `admin`."""
    if ADMIN in p.scopes:
        return "admin"
    if PUBLISH in p.scopes:
        return "publish"
    return "read" if READ in p.scopes else "anonymous"


def sha256(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class RequestData(GraphQLRequestData):
    """strawberry's request data plus the top-level `documentId` it does not keep."""

    document_id: Any = None


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def result(self) -> ExecutionResult:
        return ExecutionResult(data=None, errors=[GraphQLError(str(self), extensions={"code": self.code})])


def requested_id(data: GraphQLRequestData) -> str | None:
    """The id a client sent with a request strawberry parsed (see `id_of`)."""
    return id_of(data.extensions, data.document_id if isinstance(data, RequestData) else None)


def id_of(extensions: Any, document_id: Any) -> str | None:
    """The id a client sent: Apollo's `extensions.persistedQuery.sha256Hash`, or `documentId`
    (bare hex, or `sha256:`-prefixed as the GraphQL over HTTP draft writes it)."""
    persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
    raw = persisted.get("sha256Hash") if isinstance(persisted, Mapping) else None
    if raw is None:
        raw = document_id
    if raw is None:
        return None
    cleaned = raw.removeprefix("sha256:").lower() if isinstance(raw, str) else ""
    if not _SHA256.fullmatch(cleaned):
        raise Refused(
            "BAD_USER_INPUT", "a document id must be 64 hex digits (SHA-256), optionally sha256:-prefixed"
        )
    return cleaned


class TrustedDocuments:
    """Looks ids up in the database, which every replica shares. Bodies are remembered in-process
    (bounded) only while this process hears unregistrations: `listen` attaches it to the notifier, and
    the memo serves only while the notifier is healthy. A removal forgets its id at commit (migration
    0011); a reconnection or the notifier's periodic sync forgets everything, since a notification
    sent while disconnected is lost. Without a notifier (the CLI, tests) every lookup reads the table.
    """

    def __init__(self, only_for: frozenset[str], max_cached: int = 10_000) -> None:
        self.only_for = only_for
        self.max_cached = max_cached
        self._bodies: OrderedDict[str, str] = OrderedDict()
        self._notifier: Notifier | None = None
        self._synced = False
        # bumped by every forgetting: a lookup that began before one does not remember what it read
        self._generation = 0

    def listen(self, notifier: Notifier) -> None:
        self._notifier = notifier
        notifier.listen(CHANNEL, self._forget)
        notifier.on_sync(self._sync)
        notifier.on_lost(self._lost)

    @property
    def remembering(self) -> bool:
        return self._synced and self._notifier is not None and self._notifier.healthy

    async def _sync(self, _conn: Any) -> None:
        # after a (re)connection notices may have been missed; the periodic probes of a live one
        # (every few seconds) need not empty the memo
        if not self._synced:
            self._forget("*")
        self._synced = True

    def _lost(self) -> None:
        self._synced = False
        self._forget("*")

    def _forget(self, payload: str) -> None:
        self._generation += 1
        if payload == "*":
            self._bodies.clear()
        else:
            self._bodies.pop(payload, None)

    async def body(self, db: Db, document_id: str) -> str | None:
        remembering = self.remembering
        body = self._bodies.get(document_id) if remembering else None
        if body is None:
            generation = self._generation
            # on the primary: a lagging replica may still hold a document unregistered (or miss one
            # registered) a moment ago, and this process may already have heard of it
            body = await store.body_of(Db(db.pool, db.log), document_id)
            if body is not None and remembering and generation == self._generation:
                self._remember(document_id, body)
        else:
            self._bodies.move_to_end(document_id)
        return body

    def _remember(self, document_id: str, body: str) -> None:
        self._bodies[document_id] = body
        while len(self._bodies) > self.max_cached:
            self._bodies.popitem(last=False)

    async def resolve(self, db: Db, principal: Principal, data: GraphQLRequestData) -> GraphQLRequestData:
        """The request to execute, its document filled in from the registry; Refused otherwise."""
        data.query = await self.document(db, principal, requested_id(data), data.query)
        return data

    async def document(
        self, db: Db, principal: Principal, document_id: str | None, query: str | None
    ) -> str | None:
        """The document a request runs: its id's registered body, else the text it sent when this caller
        may send text; Refused otherwise, before anything is parsed. The endpoint and the response cache
        (gateway/cache.py) both ask, so a hit is only ever what the endpoint would have run."""
        restricted = principal_class(principal) in self.only_for
        if document_id is None:
            if restricted:
                raise Refused(
                    "TRUSTED_DOCUMENT_REQUIRED",
                    "this gateway runs only registered documents for your kind of caller: send"
                    " extensions.persistedQuery.sha256Hash or documentId",
                )
            return query
        body = await self.body(db, document_id)
        if body is not None:
            return body
        if not restricted and query is not None:
            if sha256(query) != document_id:
                raise Refused("BAD_USER_INPUT", "the document id is not the SHA-256 of the query sent")
            return query
        raise Refused("PERSISTED_QUERY_NOT_FOUND", f"document {document_id} is not registered")
