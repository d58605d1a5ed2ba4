"""FirExecutor.build makes exactly the executor graphql-core's build makes, or returns its very errors."""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any

import pytest
from graphql import DocumentNode, GraphQLError, MiddlewareManager, parse
from graphql.execution import Executor
from hypothesis import given
from hypothesis import strategies as st
from strawberry.execution.is_awaitable import optimized_is_awaitable

from schema.executor import CompiledFirExecutor, FirExecutor
from schema.schema import build_schema
from tests.perf.lineage import QUERY
from tests.schema.input_values import DIFFERENTIAL, assert_same, values, wrapped

SCHEMA = build_schema()._schema
CORE_BUILD = Executor.build.__func__  # type: ignore[attr-defined]
IDENTITY = {
    "manufacturerId": "106C",
    "modelId": "4331",
    "hardwareVersion": "00AC",
    "firmwareVersion": "00000001",
}
MANY = parse(
    """query Many($id: DeviceIdentityInput!, $first: Int = 10, $tags: [String!] = ["a"], $kind: DeviceType,
      $entry: CplEntryInput, $contacts: [ContactInput!]) {
      device(identity: $id) { onCpl ...Latest }
    }
    query Other { __typename }
    fragment Latest on DeviceFirmwareStatus { isLatest latest { version } }"""
)
MANY_TYPES = {
    "id": "DeviceIdentityInput!",
    "first": "Int",
    "tags": "[String!]",
    "kind": "DeviceType",
    "entry": "CplEntryInput",
    "contacts": "[ContactInput!]",
}


def build(
    builder: Any,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None = None,
    middleware: Any = None,
) -> list[GraphQLError] | Executor[Any]:
    """A build with the arguments strawberry passes (graphql-core's execute, positionally then by name)."""
    return builder(
        SCHEMA,
        document,
        None,
        "context",
        variables,
        operation_name,
        None,
        None,
        None,
        50,
        False,
        middleware,
        optimized_is_awaitable,
        None,
        hide_suggestions=False,
        abort_signal=None,
        hooks=None,
        operation_extensions=None,
    )


def assert_same_build(ours: Any, theirs: Any) -> None:
    if isinstance(theirs, list):
        assert isinstance(ours, list)
        assert [e.formatted for e in ours] == [e.formatted for e in theirs]
        return
    assert type(ours) is type(theirs) and vars(ours).keys() == vars(theirs).keys()
    assert ours.operation is theirs.operation
    assert ours.fragment_definitions == theirs.fragment_definitions
    assert list(ours.fragments) == list(theirs.fragments)
    for name, details in ours.fragments.items():
        assert details.definition is theirs.fragments[name].definition
        assert details.variable_signatures == theirs.fragments[name].variable_signatures
    assert_same(ours.variable_values, theirs.variable_values)
    managers = ours.middleware_manager, theirs.middleware_manager
    assert (
        managers[0] is managers[1] or managers[0].middlewares == managers[1].middlewares
    )  # a list: made anew
    same = "root_value context_value field_resolver type_resolver subscribe_field_resolver"
    same += (
        " enable_early_execution hide_suggestions abort_signal hooks error_propagation operation_extensions"
    )
    same += " is_awaitable is_async_iterable"
    for name in same.split():
        assert getattr(ours, name) is getattr(theirs, name), name


def both(
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None = None,
    middleware: Any = None,
) -> list[GraphQLError] | Executor[Any]:
    middleware = MiddlewareManager() if middleware is None else middleware  # strawberry always passes one
    ours = build(CompiledFirExecutor.build, document, variables, operation_name, middleware)
    theirs = build(partial(CORE_BUILD, CompiledFirExecutor), document, variables, operation_name, middleware)
    assert_same_build(ours, theirs)
    return ours


def test_the_build_takes_graphql_cores_parameters() -> None:
    def shape(function: Any) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]

    assert shape(FirExecutor.build) == shape(Executor.build)


@DIFFERENTIAL
@given(data=st.data())
def test_the_lineage_query_is_built_as_graphql_core_builds_it(data: st.DataObject) -> None:
    identity = data.draw(values(wrapped(SCHEMA, "DeviceIdentityInput!")))
    variables = data.draw(st.sampled_from([{"id": identity}, {}, None, {"id": identity, "other": 1}]))
    both(parse(QUERY), variables)


@DIFFERENTIAL
@given(data=st.data())
def test_many_variables_are_built_as_graphql_core_builds_them(data: st.DataObject) -> None:
    present = data.draw(st.sets(st.sampled_from(sorted(MANY_TYPES)), max_size=3)) | {"id"}
    variables = {name: data.draw(values(wrapped(SCHEMA, MANY_TYPES[name]))) for name in sorted(present)}
    both(MANY, variables, data.draw(st.sampled_from(["Many", None, "Other", "Nope"])))


def test_a_valid_request_takes_the_prepared_path() -> None:
    built = both(MANY, {"id": IDENTITY, "contacts": [{"role": "SUPPORT"}]}, "Many")
    assert isinstance(built, CompiledFirExecutor)
    assert built.variable_values.coerced == {
        "id": IDENTITY,
        "first": 10,
        "tags": ["a"],
        "contacts": [{"role": "SUPPORT", "name": None, "email": None, "phone": None}],
    }


@pytest.mark.parametrize(
    ("query", "operation_name"),
    [
        ("query A { __typename } query B { __typename }", None),  # must provide a name
        ("query A { __typename }", "B"),  # unknown operation
        ("query { __typename }", "A"),  # an anonymous operation has no name to match
        ("fragment F on Query { __typename }", None),  # no operation at all
        ("query A { __typename } query A { a: __typename }", "A"),  # the last of the name, as graphql-core
        ("query A { __typename } query B { b: __typename }", "B"),
        ("query($v: Nope) { __typename }", None),  # not a type: graphql-core's signature error
        ("query($v: DeviceFirmwareStatus) { __typename }", None),  # an output type
    ],
)
def test_operations_are_chosen_and_refused_as_graphql_core_does(
    query: str, operation_name: str | None
) -> None:
    both(parse(query), {}, operation_name)


def test_variables_graphql_core_refuses_get_its_errors() -> None:
    built = both(parse(QUERY), {"id": {**IDENTITY, "modelId": 4331, "serial": "x"}})
    assert isinstance(built, list)
    assert [e.message for e in built] == [
        "Variable '$id' has invalid value at .modelId: String cannot represent a non string value: 4331",
        "Variable '$id' has invalid value: Expected value of type 'DeviceIdentityInput' not to include"
        " unknown field 'serial', found: {'manufacturerId': '106C', 'modelId': 4331, 'hardwareVersion':"
        " '00AC', 'firmwareVersion': '00000001', 'serial': 'x'}.",
    ]


@pytest.mark.parametrize("middleware", [[], (lambda next_, *args, **kwargs: next_(*args, **kwargs),)])
def test_middleware_graphql_core_makes_a_manager_of_is_still_made_one(middleware: Any) -> None:
    built = both(parse(QUERY), {"id": IDENTITY}, None, middleware)
    assert isinstance(built, CompiledFirExecutor) and isinstance(built.middleware_manager, MiddlewareManager)


def test_middleware_graphql_core_refuses_is_refused_alike() -> None:
    with pytest.raises(TypeError, match="Middleware must be passed as a list or tuple"):
        build(CompiledFirExecutor.build, parse(QUERY), {"id": IDENTITY}, None, "not middleware")
