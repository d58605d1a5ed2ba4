"""The middleware manager: shared when no extension wraps resolvers, built per request when one does."""

from __future__ import annotations

from typing import Any

import asyncpg
from strawberry.extensions import SchemaExtension

from resolvers.principal import ANONYMOUS
from schema.devices import FleetDeviceInput
from schema.query import Query
from schema.schema import NO_MIDDLEWARE, FirSchema, build_schema
from tests.builders import execute

TYPENAME = "{ __typename cplIssues { version } }"


def test_a_schema_of_no_wrapping_extension_shares_one_manager() -> None:
    schema = build_schema()
    first = schema._get_middleware_manager(schema.get_extensions())
    second = schema._get_middleware_manager(schema.get_extensions())
    assert first is NO_MIDDLEWARE and second is NO_MIDDLEWARE
    assert not NO_MIDDLEWARE.middlewares
    resolver = lambda root, info: root  # noqa: E731
    assert NO_MIDDLEWARE.get_field_resolver(resolver) is resolver


async def test_an_extension_that_wraps_resolvers_gets_its_own_manager_each_request(
    pool: asyncpg.Pool,
) -> None:
    seen: list[int] = []

    class Counting(SchemaExtension):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(id(self))
            return _next(root, info, *args, **kwargs)

    schema = FirSchema(query=Query, types=[FleetDeviceInput], extensions=[Counting])
    managers = [schema._get_middleware_manager(schema.get_extensions()) for _ in range(2)]
    assert managers[0] is not managers[1] and all(m.middlewares for m in managers)
    for _ in range(2):
        result = await execute(schema, pool, TYPENAME, ANONYMOUS)
        assert result.errors is None and result.data["__typename"] == "Query"
    assert len(set(seen)) == 2, "each request's extension instance resolved its own fields"
