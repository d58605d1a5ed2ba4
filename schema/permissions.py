"""Enforcing schema.access: one guard per non-public field, its @requiresScopes, and the completeness check."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema
from strawberry.extensions import FieldExtension
from strawberry.federation.schema_directives import RequiresScopes
from strawberry.types import Info
from strawberry.types.base import (
    StrawberryList,
    StrawberryObjectDefinition,
    StrawberryOptional,
    get_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.utils.str_converters import to_camel_case

from resolvers.access import PUBLIC, Rule
from resolvers.context import Context
from resolvers.errors import Forbidden, Unauthenticated
from schema.access import ENTITIES, rule_of

ROOTS = frozenset({"Query", "Mutation", "Subscription"})


def owner_of(source: object) -> str | None:
    """The manufacturer whose record `source` is; None at the roots (rows are then filtered one by one)."""
    identity = getattr(source, "identity", None)
    found = getattr(identity if identity is not None else source, "manufacturer_id", None)
    return found if isinstance(found, str) else None


def forbidden(info: Info[Context, Any], message: str) -> GraphQLError:
    return GraphQLError(
        message, path=info.path.as_list(), extensions={"code": "FORBIDDEN", "field": info.field_name}
    )


class Guard(FieldExtension):
    """Runs a declared rule before the field resolves: null (or []) plus FORBIDDEN at its path if refused.

    A non-null list cannot be null without nulling its parent, so it answers [] and the FORBIDDEN
    error is added to the response by the error shaping. Root fields raise: a mutation refused to an
    anonymous caller is UNAUTHENTICATED, anything else FORBIDDEN.
    """

    def __init__(self, type_name: str, rule: Rule) -> None:
        self.type_name = type_name
        self.rule = rule
        self.empty_list = False

    def apply(self, field: StrawberryField) -> None:
        self.empty_list = isinstance(field.type, StrawberryList)
        if self.type_name not in ROOTS and not (
            self.empty_list or isinstance(field.type, StrawberryOptional)
        ):
            raise TypeError(f"guarded field {self.type_name}.{field.python_name} must be nullable or a list")

    def refusal(self, source: Any, info: Info[Context, Any]) -> Any:
        """None when the caller passes; else what to answer (or raise) instead of resolving."""
        principal = info.context.principal
        if self.rule.allows(principal, owner_of(source)):
            return None
        if self.type_name == "Mutation" and principal.anonymous:
            raise Unauthenticated("sign in to change the FIR")
        if self.type_name in ROOTS:
            raise Forbidden(f"{info.field_name} needs {self.rule.needs}", field=info.field_name)
        error = forbidden(info, f"{info.field_name} needs {self.rule.needs}")
        if not self.empty_list:
            raise error
        info.context.extra_errors.append(error)
        return []

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info[Context, Any], **kwargs: Any) -> Any:
        refused = self.refusal(source, info)
        return next_(source, info, **kwargs) if refused is None else refused

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info[Context, Any], **kwargs: Any
    ) -> Any:
        refused = self.refusal(source, info)
        if refused is not None:
            return refused
        result = next_(source, info, **kwargs)
        # a subscription's resolver returns its async generator, which is not awaited
        return await result if inspect.isawaitable(result) else result


def install(roots: Iterable[type]) -> None:
    """Give every field declared with a rule other than PUBLIC its guard and @requiresScopes.

    Fields are class attributes: installing again (a second schema) changes nothing.
    """
    for definition in object_types(roots):
        for field in definition.fields:
            rule = rule_of(definition.name, graphql_name(field))
            if rule is not None and rule is not PUBLIC and not guarded(field):
                field.extensions.append(Guard(definition.name, rule))
                field.directives.append(RequiresScopes(scopes=[list(s) for s in rule.scopes]))


def guarded(field: StrawberryField) -> bool:
    return any(isinstance(e, Guard) for e in field.extensions)


def graphql_name(field: StrawberryField) -> str:
    return field.graphql_name or to_camel_case(field.python_name)


def object_types(roots: Iterable[type]) -> Iterator[StrawberryObjectDefinition]:
    """The strawberry object types reachable from `roots` through their fields' types."""
    seen: set[str] = set()
    stack = [d for d in map(get_object_definition, roots) if d is not None]
    while stack:
        definition = stack.pop()
        if definition.name in seen:
            continue
        seen.add(definition.name)
        yield definition
        stack += [d for d in (_object_of(f.type) for f in definition.fields) if d is not None]


def _object_of(type_: Any) -> StrawberryObjectDefinition | None:
    while isinstance(type_, LazyType | StrawberryOptional | StrawberryList):
        type_ = type_.resolve_type() if isinstance(type_, LazyType) else type_.of_type
    return get_object_definition(type_)


def undeclared(schema: GraphQLSchema) -> list[str]:
    """Fields of the built schema without a declared rule, or declared but left unguarded."""
    problems = []
    for type_name, type_ in schema.type_map.items():
        if not isinstance(type_, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            problems += _problem(type_name, field_name, field.extensions.get("strawberry-definition"))
    return problems


def _problem(type_name: str, field_name: str, definition: object) -> list[str]:
    rule = rule_of(type_name, field_name)
    if rule is None:
        return [f"{type_name}.{field_name} has no access rule in schema/access.py"]
    if rule is not PUBLIC and not (isinstance(definition, StrawberryField) and guarded(definition)):
        return [f"{type_name}.{field_name} is declared {rule.name} but no guard was installed"]
    return []


def entity_refusal(info: Info[Context, Any], representation: dict[str, Any]) -> Exception | None:
    """The _entities check for one representation: its type's ENTITIES rule, for the manufacturer it names."""
    type_name = representation.get("__typename")
    rule = ENTITIES.get(type_name) if isinstance(type_name, str) else None
    if rule is None:
        return Forbidden(f"{type_name} cannot be looked up through _entities", field="_entities")
    owner = representation.get("manufacturerId")
    if rule.allows(info.context.principal, owner.strip().upper() if isinstance(owner, str) else None):
        return None
    return Forbidden(f"{type_name} needs {rule.needs}", field="_entities")
