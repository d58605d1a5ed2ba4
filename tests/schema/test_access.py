"""The access declaration is complete: a field without a rule fails the build, and every rule is enforced."""

from __future__ import annotations

import pytest
import strawberry
from graphql import GraphQLObjectType

from resolvers.access import PUBLIC
from schema.access import FIELDS
from schema.permissions import Guard, undeclared
from schema.schema import build_schema
from schema.subscriptions import Subscription


def test_the_schema_builds_with_every_field_declared() -> None:
    schema = build_schema()
    assert undeclared(schema._schema) == []


def test_a_field_without_a_rule_fails_the_build() -> None:
    @strawberry.type
    class Query:
        device_count: int

    with pytest.raises(TypeError, match=r"Query\.deviceCount has no access rule in schema/access\.py"):
        build_schema_with(Query)


def test_a_declared_guard_that_is_not_installed_is_reported() -> None:
    """A guarded field on a type the installer cannot reach from the roots is caught after the build."""

    @strawberry.type
    class Query:
        firmware_release: str | None = None

    schema = strawberry.Schema(query=Query)
    assert undeclared(schema._schema) == ["Query.firmwareRelease is declared fir but no guard was installed"]


def test_no_declaration_names_a_field_the_schema_lacks() -> None:
    """A stale rule would hide that the field it meant was renamed."""
    types = build_schema()._schema.type_map
    stale = [
        f"{type_name}.{field}"
        for type_name, rules in FIELDS.items()
        for field in rules
        if not isinstance(types.get(type_name), GraphQLObjectType) or field not in types[type_name].fields  # type: ignore[union-attr]
    ]
    assert stale == []


def test_the_subscription_is_guarded_like_any_field() -> None:
    build_schema()
    [field] = Subscription.__strawberry_definition__.fields
    assert [e.rule.name for e in field.extensions if isinstance(e, Guard)] == ["fir"]
    assert FIELDS["Subscription"]["firmwareReleased"] is not PUBLIC


def build_schema_with(query: type) -> None:
    from schema.schema import FirSchema

    FirSchema(query=query)
