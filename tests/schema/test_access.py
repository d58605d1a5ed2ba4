"""The access declaration is complete: a field without a rule fails the build, and every rule is enforced."""

from __future__ import annotations

import pytest
import strawberry
from graphql import GraphQLObjectType
from strawberry.federation.schema_directives import RequiresScopes

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


def test_the_subscriptions_are_guarded_like_any_field() -> None:
    build_schema()
    fields = Subscription.__strawberry_definition__.fields
    assert {f.python_name for f in fields} == {"firmware_released", "changed"}
    for field in fields:
        assert [e.rule.name for e in field.extensions if isinstance(e, Guard)] == ["fir"]
    assert FIELDS["Subscription"]["firmwareReleased"] is not PUBLIC
    assert FIELDS["Subscription"]["changed"] is not PUBLIC


def build_schema_with(query: type) -> None:
    from schema.schema import FirSchema

    FirSchema(query=query)


def test_requires_scopes_is_printed_from_the_declared_rule() -> None:
    """The SDL the router enforces says what the gateway enforces, field by field, once each."""
    schema = build_schema()
    for type_name, type_ in schema._schema.type_map.items():
        if not isinstance(type_, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            rule = FIELDS[type_name][name]
            definition = field.extensions.get("strawberry-definition")
            printed = [
                d.scopes for d in getattr(definition, "directives", ()) if isinstance(d, RequiresScopes)
            ]
            assert printed == ([] if rule is PUBLIC else [[list(s) for s in rule.scopes]]), (type_name, name)
    sdl = schema.as_str()
    assert 'publishedBy: String @requiresScopes(scopes: [["fir:publish"], ["fir:admin"]])' in sdl
    [audit_log] = [line for line in sdl.splitlines() if line.strip().startswith("auditLog(")]
    assert (
        "): AuditEventConnection! @" in audit_log and '@requiresScopes(scopes: [["fir:admin"]])' in audit_log
    )
