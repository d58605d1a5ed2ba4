"""Documents prepared once: per schema, document and operation name, never one document's for another's."""

from __future__ import annotations

import gc
import weakref

import pytest
from graphql import OperationDefinitionNode, parse

from schema import prepared as module
from schema.prepared import prepared
from schema.schema import build_schema
from tests.perf.lineage import QUERY

SCHEMA = build_schema()._schema
OTHER = build_schema()._schema
FLEET = (
    "query($d: [FleetDeviceInput!]!, $e: [FleetDeviceInput!]! = []) { fleetStatus(devices: $d) { total } }"
)


def test_a_document_is_prepared_once_per_operation_name() -> None:
    document = parse("query A { __typename } query B { __typename }")
    a, b = prepared(SCHEMA, document, "A"), prepared(SCHEMA, document, "B")
    assert a is not None and b is not None and a is not b
    assert (a.operation.name.value, b.operation.name.value) == ("A", "B")  # type: ignore[union-attr]
    assert prepared(SCHEMA, document, "A") is a
    assert prepared(SCHEMA, document, None) is None  # two operations, no name: graphql-core's error


def test_each_schema_has_its_own_preparation() -> None:
    document = parse(QUERY)
    ours, theirs = prepared(SCHEMA, document, None), prepared(OTHER, document, None)
    assert ours is not None and theirs is not None and ours is not theirs
    assert ours.operation is theirs.operation
    assert ours.coerce.schema is SCHEMA and theirs.coerce.schema is OTHER


def test_an_entry_is_never_taken_for_another_document_of_the_same_id() -> None:
    """The key holds ids; an entry also holds its document, so the id is not reused while it lasts, and
    the entry must be its document's (a planted entry of another document under this one's id is not)."""
    document, impostor = parse("query Real { __typename }"), parse("query Impostor { __typename }")
    planted = prepared(SCHEMA, impostor, None)
    module._entries[(id(SCHEMA), id(document), None)] = module._Entry(SCHEMA, impostor, planted)
    found = prepared(SCHEMA, document, None)
    assert found is not None and found is not planted
    assert isinstance(found.operation, OperationDefinitionNode) and found.operation.name.value == "Real"  # type: ignore[union-attr]


def test_the_cache_is_bounded_and_lets_its_documents_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "PREPARED", 3)
    first = parse("query First { __typename }")
    alive = weakref.ref(first)
    prepared(SCHEMA, first, None)
    for n in range(5):
        prepared(SCHEMA, parse(f"query Q{n} {{ __typename }}"), None)
    assert len(module._entries) == 3
    del first
    gc.collect()
    assert alive() is None


def test_documents_graphql_core_must_build_are_not_prepared() -> None:
    refused = [
        "fragment F on Query { __typename }",  # no operation
        "query($v: Nope) { __typename }",  # a signature error
        "query($v: DeviceFirmwareStatus) { __typename }",
    ]
    for query in refused:
        assert prepared(SCHEMA, parse(query), None) is None
    assert prepared(SCHEMA, parse("query A { __typename }"), "B") is None
    with_arguments = parse(
        "query { ...F(a: 1) } fragment F($a: Int) on Query { __typename }",
        experimental_fragment_arguments=True,
    )
    assert prepared(SCHEMA, with_arguments, None) is None  # experimental: its variables are graphql-core's


def test_the_fragments_are_graphql_cores() -> None:
    ready = prepared(
        SCHEMA,
        parse("query { ...F } fragment F on Query { __typename } fragment G on Query { a: __typename }"),
        None,
    )
    assert ready is not None
    assert list(ready.fragments) == list(ready.fragment_definitions) == ["F", "G"]
    assert all(d.variable_signatures is None for d in ready.fragments.values())


def test_fleet_variables_without_a_default_are_noted() -> None:
    ready = prepared(SCHEMA, parse(FLEET), None)
    assert ready is not None and ready.fleet == ("d",)
