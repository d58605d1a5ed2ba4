"""Client manifests of trusted documents: Apollo's persisted-query manifest, GraphQL Codegen's map."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse

from gateway.trusted_documents import sha256
from loaders.trusted_documents import TrustedDocumentRow

APOLLO_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    pass


def documents_of(manifest: Any) -> list[TrustedDocumentRow]:
    """Every operation of a manifest, each checked: its id is the SHA-256 of its body, and it parses."""
    if isinstance(manifest, dict) and manifest.get("format") == APOLLO_FORMAT:
        if manifest.get("version") != 1:
            raise ManifestError(
                f"{APOLLO_FORMAT} version {manifest.get('version')!r} is not supported (1 is)"
            )
        operations = manifest.get("operations")
        if not isinstance(operations, list):
            raise ManifestError("`operations` must be a list")
        return [_document(op.get("id"), op.get("body"), op.get("name")) for op in operations]
    if isinstance(manifest, dict) and all(isinstance(v, str) for v in manifest.values()):
        # GraphQL Codegen's client preset, persistedDocuments: {"<hash>": "<document>"}
        return [_document(key, body, None) for key, body in manifest.items()]
    raise ManifestError(f"not a manifest: expected {APOLLO_FORMAT} or a map of document id to document")


def _document(document_id: Any, body: Any, name: Any) -> TrustedDocumentRow:
    if not isinstance(document_id, str) or not isinstance(body, str):
        raise ManifestError("every operation needs a string id and body")
    label = name if isinstance(name, str) else document_id
    if sha256(body) != document_id.removeprefix("sha256:").lower():
        raise ManifestError(
            f"operation {label}: its id is not the SHA-256 of its body"
            " (GraphQL Codegen: set persistedDocuments.hashAlgorithm to 'sha256')"
        )
    try:
        document = parse(body, no_location=True)
    except GraphQLError as error:
        raise ManifestError(f"operation {label}: {error.message}") from None
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    kind = ops[0].operation.value if len(ops) == 1 else None
    found = ops[0].name.value if len(ops) == 1 and ops[0].name else None
    return TrustedDocumentRow(sha256(body), body, name if isinstance(name, str) else found, kind)
