"""The Schema object: Federation 2 subgraph with limits, caches and error shaping."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from functools import partial
from typing import Any, cast

import strawberry
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    MiddlewareManager,
)
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult, Info
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from resolvers.context import Context
from resolvers.errors import BadUserInput
from schema.catalogue import CplEntry, DeviceModel, Manufacturer
from schema.cost_cache import Analyses
from schema.cost_model import CostModel
from schema.devices import FleetDeviceInput
from schema.entities import checked_representation, entity_keys
from schema.errors import TagValidationErrors, shape_result
from schema.executor import CompiledFirExecutor, FirExecutor
from schema.extension_hooks import PlannedExtensionsRunner
from schema.input_limits import Screen, first_problem, input_limits, literal_strings_rule, too_many_entities
from schema.introspection import IntrospectionPolicy
from schema.lane import NO_MIDDLEWARE, STRAWBERRY_RULES, Lane
from schema.limits import QueryLimits, SchemaLimits
from schema.mutations import Mutation
from schema.offload import off_loop
from schema.operation_name import OperationNameRequired
from schema.parsing import OffLoopParser
from schema.permissions import entity_refusal, install, undeclared
from schema.query import Query
from schema.read_routing import PrimaryUnlessQuery
from schema.releases import FirmwareRelease
from schema.sifted import has_long_list, remembered, sift
from schema.slices import install_chunked_gather
from schema.subscriptions import Subscription
from schema.validation import OffLoopValidation

FEDERATION_VERSION = "2.11"
ENTITY_TYPES: list[type] = [Manufacturer, DeviceModel, CplEntry, FirmwareRelease]


__all__ = ["FirSchema", "SchemaLimits", "build_schema"]


class FirSchema(strawberry.federation.Schema):
    """Errors are shaped after execution, whatever stage raised them (parse errors escape extensions)."""

    def __init__(
        self, *args: Any, lane: Lane | None = None, screen: Screen | None = None, **kwargs: Any
    ) -> None:
        install([Query, Mutation, Subscription, *ENTITY_TYPES])
        super().__init__(*args, **kwargs)
        self.lane = lane  # for the extensions build_schema gives it (schema.lane)
        self.screen = screen  # InputLimits' screen, which long lists pass on a thread (schema.sifted)
        if problems := undeclared(self._schema):
            raise TypeError("access rules missing:\n" + "\n".join(problems))
        fleet_input(self._schema)
        self.cost_model = CostModel(self._schema)
        self.analyses = Analyses(self.cost_model)
        self.entities = entity_keys(self._schema, declared_keys(self))
        self.wrapping: bool | None = None  # whether an extension wraps resolvers, from its class
        self.factories_only = not self.directives and not any(
            isinstance(ext, SchemaExtension) for ext in self.extensions
        )

    def entities_resolver(
        self, info: Info[Context, Any], representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Each representation is checked against its type's keys (malformed: BAD_USER_INPUT at its
        index), then passes its type's declared entity rule (schema.access.ENTITIES); the rest resolve.

        The caller's cap is checked again here on the coerced lists, whatever the document's shape:
        schema.input_limits refuses before coercion what it can count in the document and variables.
        """
        context = info.context
        if isinstance(context, Context):
            context.entities_seen += len(representations)
            cap = context.limits.caps.of(context.principal).entities
            if context.entities_seen > cap:
                raise too_many_entities(context.entities_seen, cap)
        refusals: list[Exception | None] = []
        allowed: list[FederationAny] = []
        for index, representation in enumerate(representations):
            try:
                checked = checked_representation(representation, index, self.entities)
            except BadUserInput as error:
                refusals.append(error)
                continue
            refused = entity_refusal(info, checked)
            refusals.append(refused)
            if refused is None:
                allowed.append(FederationAny(checked))
        resolved = iter(super().entities_resolver(info, allowed))
        # graphql-core reports an exception in the list as an error at that index
        return [next(resolved) if refused is None else cast(FederationAny, refused) for refused in refusals]

    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        """strawberry's, without its per-request look at each entry: ours are all factories (classes
        or partials), built anew for each request, and the schema has no operation directives."""
        if not self.factories_only:
            return super().get_extensions(sync)
        return [factory() for factory in self.extensions]

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        """strawberry builds a manager per request of the extensions that wrap resolvers. None of ours
        does (asked of the classes once), and a manager of no middleware holds nothing of a request
        (it hands each resolver back unwrapped), so those requests share one."""
        if self.wrapping is None:
            self.wrapping = any(ext._implements_resolve() for ext in extensions)
        if self.wrapping or not self.factories_only:
            return super()._get_middleware_manager(extensions)
        return NO_MIDDLEWARE

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return PlannedExtensionsRunner(execution_context=execution_context, extensions=extensions)

    async def execute(  # strawberry's signature, parameter for parameter
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """A known document takes the lane (schema.lane); anything else strawberry's pipeline."""
        allowed = (
            DEFAULT_ALLOWED_OPERATION_TYPES if allowed_operation_types is None else allowed_operation_types
        )
        if (
            self.screen
            and variable_values
            and isinstance(context_value, Context)
            and has_long_list(variable_values)
        ):
            caps = context_value.limits.caps.of(context_value.principal)
            check = partial(first_problem, screen=self.screen)
            found = await off_loop(partial(sift, check, variable_values, caps))
            with remembered(found):
                return await self._execute(
                    query,
                    variable_values,
                    context_value,
                    root_value,
                    operation_name,
                    allowed,
                    operation_extensions,
                )
        return await self._execute(
            query, variable_values, context_value, root_value, operation_name, allowed, operation_extensions
        )

    async def _execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any | None,
        root_value: Any | None,
        operation_name: str | None,
        allowed: Iterable[OperationType],
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        lane = self.lane
        known = (
            lane.known(self, query, variable_values, context_value, operation_name, allowed) if lane else None
        )
        result: ExecutionResult
        if lane is not None and known is not None:
            result = await lane.run(
                self, known, variable_values, context_value, root_value, operation_extensions
            )
        else:
            result = await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed,
                operation_extensions,
            )
        result.errors = shape_result(result.errors, getattr(context_value, "extra_errors", None))
        return result

    async def stream(  # strawberry's signature, parameter for parameter
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        """What graphql-transport-ws runs for every operation (subscriptions, queries and mutations
        alike) and subscribe() for graphql-ws: the same error shaping as execute(), and each operation
        its own context (resolvers.context.Context.for_operation) rather than the connection's."""
        context = context_value.for_operation() if isinstance(context_value, Context) else context_value
        results = await super().stream(
            query,
            variable_values,
            context,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )
        if isinstance(results, ExecutionResult):  # refused before streaming (parse or validation)
            results.errors = shape_result(results.errors, None)
            return results
        return _shaped_stream(results, context)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Logging happens once, in shape(), for unexpected errors only."""


def declared_keys(schema: strawberry.federation.Schema) -> dict[str, list[str]]:
    """Every entity type's @key field sets, as declared on the strawberry types."""
    declared: dict[str, list[str]] = {}
    for name, converted in schema.schema_converter.type_map.items():
        directives = getattr(converted.definition, "directives", None) or ()
        keys = [str(d.fields) for d in directives if isinstance(d, Key)]
        if keys:
            declared[name] = keys
    return declared


def fleet_input(schema: GraphQLSchema) -> None:
    """Give fleetStatus(devices:) its contract type, [FleetDeviceInput!]!, at the graphql-core level.

    The resolver declares JSON so that strawberry does not convert each of up to a million input
    objects into a dataclass (its per-object cost dominated a 100,000-device fleet). A variable of
    plain devices is checked and put in columns by schema.fleet_input; graphql-core coerces and
    validates anything else against FleetDeviceInput, and the SDL prints the contract.
    """
    assert schema.query_type is not None
    item = schema.type_map["FleetDeviceInput"]
    assert isinstance(item, GraphQLInputObjectType)
    schema.query_type.fields["fleetStatus"].args["devices"].type = GraphQLNonNull(
        GraphQLList(GraphQLNonNull(item))
    )


def build_schema(limits: SchemaLimits | None = None) -> FirSchema:
    limits = limits or SchemaLimits()
    install_chunked_gather()
    literals = literal_strings_rule(limits.max_string_length)
    caps = input_limits(limits.max_string_length)
    return FirSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*ENTITY_TYPES, FleetDeviceInput],
        federation_version=FEDERATION_VERSION,
        execution_context_class=CompiledFirExecutor if limits.compiled_executor else FirExecutor,
        extensions=[
            TagValidationErrors,
            partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
            partial(QueryLimits, limits),
            partial(AddValidationRules, [literals]),
            OperationNameRequired,
            PrimaryUnlessQuery,
            caps,
            OffLoopParser,
            OffLoopValidation,
            partial(IntrospectionPolicy, mode=limits.introspection),
        ],
        lane=Lane(limits, (*STRAWBERRY_RULES, literals), caps.screen) if limits.operation_lane else None,
        screen=caps.screen,
    )


async def _shaped_stream(results: AsyncGenerator[Any, None], context: Any) -> AsyncGenerator[Any, None]:
    """Each result shaped with the errors its own execution recorded (a subscription runs one per event).

    What strawberry's stream raises before its first result (a syntax error or too many tokens from
    the parser, schema.parsing; no query; an operation type the protocol does not carry) is the first
    result instead, a refusal with its code: raised, graphql-transport-ws answered a bare `complete`
    and graphql-ws nothing at all, or a masked INTERNAL error."""
    first = True
    try:
        try:
            async for result in results:
                if isinstance(result, ExecutionResult):
                    extra = None
                    if isinstance(context, Context):
                        extra, context.extra_errors = context.extra_errors, []
                    errors = result.errors
                    if first and errors:
                        errors = [
                            _refusal(e.original_error) if isinstance(e.original_error, _REFUSED) else e
                            for e in errors
                        ]
                    result.errors = shape_result(errors, extra)
                first = False
                yield result
        except (GraphQLError, *_REFUSED) as error:
            if not first:
                raise
            yield PreExecutionError(data=None, errors=shape_result([_refusal(error)], None), extensions=None)
    finally:
        await results.aclose()


# Raised by strawberry's stream (or reported as the original error of its first result) for an
# operation it did not run
_REFUSED = (MissingQueryError, InvalidOperationTypeError)
_OPERATIONS = {OperationType.QUERY: "a query", OperationType.MUTATION: "a mutation"}


def _refusal(error: Exception) -> GraphQLError:
    """A streamed operation refused before it ran, as a GraphQL error with a code (schema.errors shapes it)."""
    if isinstance(error, GraphQLError):
        return error
    if isinstance(error, InvalidOperationTypeError):
        what = _OPERATIONS.get(error.operation_type, "this operation")
        return GraphQLError(
            f"{what} cannot run over graphql-ws, which carries subscriptions only: use"
            " graphql-transport-ws or HTTP POST",
            extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
        )
    return GraphQLError(  # MissingQueryError
        "no GraphQL query in the message: send query text or a documentId",
        extensions={"code": "BAD_USER_INPUT", "field": "query"},
    )
