"""Query limits checked before validation runs: cost against the caller's budget, depth, aliases, expansion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.principal import ANONYMOUS, PUBLISH, Principal
from schema.cost import Analysis
from schema.cost_cache import Analyses
from schema.introspection import Introspection


@dataclass(frozen=True)
class Budgets:
    """The largest query cost each kind of caller may ask for (see README, "Query cost")."""

    anonymous: int = 20_000
    reader: int = 2_000_000
    publisher: int = 3_000_000
    admin: int = 20_000_000

    def of(self, principal: Principal) -> tuple[str, int]:
        if principal.is_admin:
            return "fir:admin", self.admin
        if PUBLISH in principal.scopes:
            return "fir:publish", self.publisher
        if principal.can_read:
            return "fir:read", self.reader
        return "anonymous", self.anonymous


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 15  # GraphiQL's introspection query is 15 deep
    max_aliases: int = 30
    # also the cap on field selections after fragment expansion: fragments never buy a bigger document
    max_tokens: int = 5000
    budgets: Budgets = field(default_factory=Budgets)
    # characters in any string literal or variable value (schema.input_limits)
    max_string_length: int = 65_536
    introspection: Introspection = Introspection.ALL  # who may query __schema / __type
    # queries run from a plan compiled once per document (schema.compiled); off: graphql-core's executor
    compiled_executor: bool = True
    # a document seen before skips strawberry's per-request pipeline (schema.lane); off: never
    operation_lane: bool = True

    def refusal(self, analysis: Analysis, principal: Principal) -> GraphQLError | None:
        """QUERY_TOO_COMPLEX when the operation is over this caller's budget or a limit, else None."""
        caller, budget = self.budgets.of(principal)
        if analysis.cost > budget:
            message = f"query cost {analysis.cost} exceeds the budget of {budget} for {caller} callers"
            return too_complex(message, cost=analysis.cost, budget=budget)
        if analysis.depth > self.max_depth:
            message = f"query depth {analysis.depth} exceeds the limit of {self.max_depth}"
            return too_complex(message, depth=analysis.depth, limit=self.max_depth)
        if analysis.aliases > self.max_aliases:
            message = f"{analysis.aliases} aliases exceed the limit of {self.max_aliases}"
            return too_complex(message, aliases=analysis.aliases, limit=self.max_aliases)
        if analysis.selections > self.max_tokens:
            message = (
                f"fragments expand the query to {analysis.selections} fields, more than {self.max_tokens}"
            )
            return too_complex(message, selections=analysis.selections, limit=self.max_tokens)
        return None


class QueryLimits(SchemaExtension):
    """Refuses before graphql-core validates (whose overlap rule is exponential in doubling fragments).

    Depth and aliases come from the same linear pass rather than strawberry's QueryDepthLimiter and
    MaxAliasesLimiter: those are validation rules (they run too late), re-walk a fragment per spread,
    and the depth limiter always skips introspection fields.
    """

    def __init__(self, limits: SchemaLimits) -> None:
        super().__init__()
        self.limits = limits

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        analyses = getattr(context.schema, "analyses", None)
        if context.graphql_document is not None and isinstance(analyses, Analyses):
            analysis = await analyses.of(context.query, context.graphql_document, context.variables)
            principal = getattr(context.context, "principal", ANONYMOUS)
            error = self.limits.refusal(analysis, principal)
            if error is not None:
                context.pre_execution_errors = [error]
        yield


def too_complex(message: str, **figures: int) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "QUERY_TOO_COMPLEX", **figures})
