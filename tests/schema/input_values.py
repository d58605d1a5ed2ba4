"""Variable values for the schema's input types, valid and irregular, and graphql-core's coerced variables compared exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    is_equal_type,
    is_required_input_field,
)
from graphql.execution.values import VariableValues
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

DIFFERENTIAL = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=4)
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
# Wrong values of every JSON kind, some with a known field name (an object where a scalar belongs).
NOISE = JSON | st.dictionaries(st.sampled_from(["modelId", "x", "role"]), JSON_LEAF, max_size=2)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.text(max_size=6),
    "ID": st.text(max_size=4) | st.integers(-(2**40), 2**40),
    # integral floats are Ints too; out of 32-bit range is an error
    "Int": st.integers(-(2**33), 2**33) | st.floats(-1e10, 1e10).map(round).map(float) | st.floats(-10, 10),
    "Boolean": st.booleans(),
    "Date": st.dates().map(dt.date.isoformat) | st.text("0123456789-", max_size=10),
    "DateTime": st.datetimes().map(dt.datetime.isoformat) | st.text("0123456789-:T", max_size=19),
    "JSON": JSON,
}


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value nine times in ten at each level, so that deep valid values are common."""
    return st.integers(0, 9).flatmap(lambda roll: NOISE if roll == 0 else valid)


def values(type_: GraphQLInputType) -> st.SearchStrategy[Any]:
    """Values for the type: valid ones, and each kind of irregularity (null, wrong kind, a field missing
    or unknown, a single value where a list belongs)."""
    if isinstance(type_, GraphQLNonNull):
        return values(type_.of_type)
    if isinstance(type_, GraphQLList):
        item = values(type_.of_type)
        return mostly(st.lists(item, max_size=3) | item)
    if isinstance(type_, GraphQLEnumType):
        return mostly(st.sampled_from(sorted(type_.values)) | st.text(max_size=3))
    if isinstance(type_, GraphQLInputObjectType):
        return mostly(objects(type_))
    assert isinstance(type_, GraphQLScalarType)
    return mostly(SCALARS[type_.name])


def objects(type_: GraphQLInputObjectType) -> st.SearchStrategy[dict[str, Any]]:
    fields = type_.fields
    required = {name: values(f.type) for name, f in fields.items() if is_required_input_field(f)}
    optional = {name: values(f.type) for name, f in fields.items() if not is_required_input_field(f)}
    whole = st.fixed_dictionaries(required, optional=optional)

    def irregular(value: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        dropped = [{k: v for k, v in value.items() if k != name} for name in value]
        return st.sampled_from([value, {**value, "unknownField": 1}, *dropped])

    return st.integers(0, 4).flatmap(lambda roll: whole.flatmap(irregular) if roll == 0 else whole)


def typed(value: Any) -> Any:
    """A value with every type and every key order made explicit: 1, 1.0 and True differ, and so do
    {'a', 'b'} and {'b', 'a'}."""
    if isinstance(value, dict):
        return ("dict", [(key, typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    return (type(value), value)


def assert_same(ours: VariableValues, theirs: VariableValues) -> None:
    assert list(ours.sources) == list(theirs.sources)
    for name, source in ours.sources.items():
        other = theirs.sources[name]
        assert source.value is other.value
        assert source.signature.name == other.signature.name
        # graphql-core wraps the named type anew for each request: equal types, not one object
        assert is_equal_type(source.signature.type, other.signature.type)
        assert (source.signature.default is None) == (other.signature.default is None)
        if source.signature.default is not None and other.signature.default is not None:
            assert source.signature.default.literal is other.signature.default.literal
        assert source.signature.default_value is other.signature.default_value
    assert typed(ours.coerced) == typed(theirs.coerced)


def wrapped(schema: GraphQLSchema, type_name: str) -> GraphQLInputType:
    """The type a variable declared as `type_name` has: `[[Int]!]` is list, non-null, list of Int."""
    marks: list[str] = []
    rest = type_name
    while rest.endswith("!") or rest.startswith("["):
        if rest.endswith("!"):
            marks.append("!")
            rest = rest[:-1]
        else:
            marks.append("[")
            rest = rest[1:-1]
    type_: Any = schema.type_map[rest]
    for mark in reversed(marks):
        type_ = GraphQLNonNull(type_) if mark == "!" else GraphQLList(type_)
    return cast("GraphQLInputType", type_)
