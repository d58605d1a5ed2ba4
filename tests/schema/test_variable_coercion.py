"""The compiled variable coercer gives exactly graphql-core's coerced variables for valid input, and declines all else."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    parse,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language.parser import MAX_NESTING_DEPTH
from hypothesis import given
from hypothesis import strategies as st

from schema.schema import build_schema
from schema.variable_coercion import Declined, compile_type, compile_variables
from tests.schema.input_values import DIFFERENTIAL, SCALARS, assert_same, values, wrapped

SCHEMA = build_schema()._schema


def differential(schema: GraphQLSchema, query: str, inputs: dict[str, Any]) -> VariableValues | None:
    """Our coercion against graphql-core's for one input; ours where both coerce it."""
    [operation] = parse(query).definitions
    assert isinstance(operation, OperationDefinitionNode)
    definitions = operation.variable_definitions or ()
    coercer = compile_variables(schema, definitions)
    assert coercer is not None
    theirs = get_variable_values(schema, definitions, inputs, max_errors=50)
    try:
        ours = coercer(inputs, False)
    except Declined:
        assert isinstance(theirs, list), f"declined what graphql-core coerces: {inputs!r}"
        return None
    assert not isinstance(theirs, list), f"coerced what graphql-core refuses: {inputs!r}: {theirs}"
    assert_same(ours, theirs)
    return ours


def type_names() -> list[str]:
    """Every input object and enum of the real schema, its scalars, and list types built of them."""
    named = [
        name
        for name, type_ in SCHEMA.type_map.items()
        if isinstance(type_, GraphQLInputObjectType)
        or (isinstance(type_, GraphQLEnumType) and not name.startswith(("__", "link__")))
        or name in SCALARS
    ]
    wrapped = [
        "[String!]",
        "[String!]!",
        "[[Int]!]",
        "[DeviceType!]!",
        "[FleetDeviceInput!]!",
        "[ContactInput]",
    ]
    return [f"{name}{bang}" for name in named for bang in ("", "!")] + wrapped


@pytest.mark.parametrize("type_name", type_names())
@DIFFERENTIAL
@given(data=st.data())
def test_each_input_type_coerces_as_graphql_core_does(type_name: str, data: st.DataObject) -> None:
    value = data.draw(values(wrapped(SCHEMA, type_name)))
    inputs = data.draw(st.sampled_from([{"v": value}, {}]))
    differential(SCHEMA, f"query($v: {type_name}) {{ __typename }}", inputs)


MANY = """query(
  $id: DeviceIdentityInput!, $limit: Int = 10, $tags: [String!] = ["a", "b"], $status: CplStatus = CURRENT,
  $at: DeviceIdentityInput = {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "1"},
  $contact: ContactInput, $note: String, $entry: CplEntryInput, $submit: SubmitFirmwareReleaseInput
) { __typename }"""
MANY_TYPES = {
    "id": "DeviceIdentityInput!",
    "limit": "Int",
    "tags": "[String!]",
    "status": "CplStatus",
    "at": "DeviceIdentityInput",
    "contact": "ContactInput",
    "note": "String",
    "entry": "CplEntryInput",
    "submit": "SubmitFirmwareReleaseInput",
}


@DIFFERENTIAL
@given(data=st.data())
def test_several_variables_with_defaults_coerce_as_graphql_core_does(data: st.DataObject) -> None:
    # $id is required: mostly given, so that the other variables and defaults get past it
    present = data.draw(st.sets(st.sampled_from(sorted(MANY_TYPES)), max_size=4))
    if data.draw(st.integers(0, 4)):
        present.add("id")
    inputs = {}
    for name in sorted(present):
        inputs[name] = data.draw(values(wrapped(SCHEMA, MANY_TYPES[name])))
    differential(SCHEMA, MANY, inputs)


def test_valid_variables_are_coerced_not_declined() -> None:
    identity = {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "1",
    }
    ours = differential(SCHEMA, MANY, {"id": identity, "contact": {"role": "SUPPORT"}, "tags": "one"})
    assert ours is not None
    assert ours.coerced["tags"] == ["one"]  # a single value where a list belongs
    assert ours.coerced["contact"] == {"role": "SUPPORT", "name": None, "email": None, "phone": None}
    assert ours.coerced["limit"] == 10 and ours.coerced["status"] == "CURRENT"


def test_a_variables_default_is_coerced_anew_for_each_request() -> None:
    """graphql-core coerces a variable's default per request (on a fresh signature): a shared one would
    hand a resolver's change to a default list to the next request."""
    identity = {
        "manufacturerId": "106C",
        "modelId": "4331",
        "hardwareVersion": "00AC",
        "firmwareVersion": "1",
    }
    first = differential(SCHEMA, MANY, {"id": identity})
    second = differential(SCHEMA, MANY, {"id": identity})
    assert first is not None and second is not None
    assert first.coerced["tags"] == second.coerced["tags"] == ["a", "b"]
    assert first.coerced["tags"] is not second.coerced["tags"]
    assert first.coerced["at"] is not second.coerced["at"]


@pytest.mark.parametrize(
    "value",
    [
        ("106C",),  # a tuple for a list: graphql-core iterates it
        {"manufacturerId": "106C"}.keys(),
        type("Mapping", (dict,), {})(manufacturerId="106C"),  # a dict subclass
        b"106C",
    ],
    ids=["tuple", "keys", "dict subclass", "bytes"],
)
def test_values_json_cannot_hold_are_left_to_graphql_core(value: Any) -> None:
    coercer = compile_type(GraphQLList(GraphQLString))
    with pytest.raises(Declined):
        coercer(value)


@strawberry.input(one_of=True)
class Either:
    a: str | None = strawberry.UNSET
    b: int | None = strawberry.UNSET


@strawberry.input
class Tree:
    value: int
    children: list[Tree] | None = None


@strawberry.type
class Query:
    @strawberry.field
    def either(self, value: Either) -> str:
        return "x"

    @strawberry.field
    def tree(self, value: Tree) -> int:
        return value.value


ODD = strawberry.Schema(Query)._schema


@pytest.mark.parametrize("type_name", ["Either!", "Tree!", "[Tree]"])
def test_recursive_and_one_of_types_are_left_to_graphql_core(type_name: str) -> None:
    [operation] = parse(f"query($v: {type_name}) {{ __typename }}").definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert compile_variables(ODD, operation.variable_definitions or ()) is None


def test_a_custom_out_type_and_an_unknown_type_are_left_to_graphql_core() -> None:
    custom = GraphQLInputObjectType("Custom", {"a": GraphQLInputField(GraphQLInt)}, out_type=tuple)
    schema = GraphQLSchema(types=[custom])
    for query in ("query($v: Custom) { a }", "query($v: Missing) { a }", "query($v: [Custom!]) { a }"):
        [operation] = parse(query).definitions
        assert isinstance(operation, OperationDefinitionNode)
        assert compile_variables(schema, operation.variable_definitions or ()) is None


def test_out_names_are_the_keys_as_in_graphql_core() -> None:
    named = GraphQLInputObjectType(
        "Named",
        {
            "firstName": GraphQLInputField(GraphQLNonNull(GraphQLString), out_name="first_name"),
            "age": GraphQLInputField(GraphQLInt, default_value=7, out_name="years"),
        },
    )
    schema = GraphQLSchema(types=[named])
    ours = differential(schema, "query($v: Named!) { a }", {"v": {"firstName": "Ada"}})
    assert ours is not None and ours.coerced == {"v": {"first_name": "Ada", "years": 7}}


def chain(depth: int) -> GraphQLSchema:
    """Input types nested `depth` deep, each a distinct type (not recursive): Level0 { next: Level1 }..."""
    inner: Any = GraphQLInt
    for level in reversed(range(depth)):
        inner = GraphQLInputObjectType(f"Level{level}", {"next": GraphQLInputField(inner)})
    return GraphQLSchema(types=[inner])


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"next": value}
    return value


def test_nesting_below_graphql_cores_limit_is_coerced_and_beyond_it_left_to_graphql_core() -> None:
    ours = differential(chain(MAX_NESTING_DEPTH), "query($v: Level0) { a }", {"v": nested(MAX_NESTING_DEPTH)})
    assert ours is not None
    [operation] = parse("query($v: Level0) { a }").definitions
    assert isinstance(operation, OperationDefinitionNode)
    deep = chain(MAX_NESTING_DEPTH + 1)
    assert compile_variables(deep, operation.variable_definitions or ()) is None
    [error] = get_variable_values(
        deep, operation.variable_definitions or (), {"v": nested(MAX_NESTING_DEPTH + 1)}
    )
    assert error.message == "Variable values are nested too deeply."
