"""Field-level scope rules: one extension guards a field, prints @requiresScopes and records itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.federation.schema_directives import RequiresScopes
from strawberry.types import Info
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from resolvers.context import Context
from resolvers.principal import ADMIN, PUBLISH, READ, Principal

Rule = Callable[[Principal], bool]

# The scopes each rule prints in @requiresScopes (alternatives; each inner list is all-of).
READ_SCOPES = [[READ], [PUBLISH], [ADMIN]]
ADMIN_SCOPES = [[ADMIN]]

# Every guarded field, "Type.field" -> rule name; the visibility matrix test reads it.
GUARDED: dict[str, str] = {}


def can_read(p: Principal) -> bool:
    return p.can_read


def is_admin(p: Principal) -> bool:
    return p.is_admin


RULES: dict[str, tuple[Rule, list[list[str]]]] = {
    "read": (can_read, READ_SCOPES),
    "admin": (is_admin, ADMIN_SCOPES),
}


def _owner(field: StrawberryField) -> str:
    """The GraphQL type a field belongs to: methods carry it in their qualified name."""
    parts = getattr(field.origin, "__qualname__", "?").split(".")
    return parts[-2] if len(parts) > 1 else parts[0]


def forbidden(info: Info[Context, Any], message: str) -> GraphQLError:
    return GraphQLError(
        message, path=info.path.as_list(), extensions={"code": "FORBIDDEN", "field": info.field_name}
    )


class ScopeGuard(FieldExtension):
    """Null plus FORBIDDEN at the field's path when the caller lacks the scope.

    A non-null list cannot be null without nulling its parent, so it answers [] and the
    FORBIDDEN error is added to the response by the error-shaping extension.
    """

    def __init__(self, rule: str) -> None:
        self.rule_name = rule
        self.rule, self.scopes = RULES[rule]
        self.empty_list = False

    def apply(self, field: StrawberryField) -> None:
        # Fields are class attributes: building a second schema must not print the directive twice.
        if not any(isinstance(d, RequiresScopes) for d in field.directives):
            field.directives.append(RequiresScopes(scopes=self.scopes))
        self.empty_list = isinstance(field.type, StrawberryList)
        if not (self.empty_list or isinstance(field.type, StrawberryOptional)):
            raise TypeError(f"guarded field {field.python_name} must be nullable or a list")
        GUARDED[f"{_owner(field)}.{field.graphql_name or to_camel_case(field.python_name)}"] = self.rule_name

    def _deny(self, info: Info[Context, Any]) -> Any:
        error = forbidden(info, f"{info.field_name} needs scope {self._scope_text()}")
        if self.empty_list:
            info.context.extra_errors.append(error)
            return []
        raise error

    def _scope_text(self) -> str:
        return " or ".join(s[0] for s in self.scopes)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info[Context, Any], **kwargs: Any) -> Any:
        if not self.rule(info.context.principal):
            return self._deny(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info[Context, Any], **kwargs: Any
    ) -> Any:
        if not self.rule(info.context.principal):
            return self._deny(info)
        return await next_(source, info, **kwargs)


def requires_read() -> list[FieldExtension]:
    return [ScopeGuard("read")]


def requires_admin() -> list[FieldExtension]:
    return [ScopeGuard("admin")]
