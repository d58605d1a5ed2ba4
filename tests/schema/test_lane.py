"""The known operation's lane (schema.lane) answers exactly as strawberry's pipeline: data, errors,
refusals and exceptions, for a document seen before; and it is the lane that answers them."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from resolvers.principal import ANONYMOUS, Principal
from schema.introspection import Introspection
from schema.limits import Budgets, SchemaLimits
from schema.schema import FirSchema, build_schema
from tests.builders import SECAS, SUPPLIER, context_for

LIMITS = SchemaLimits(budgets=Budgets(anonymous=50), introspection=Introspection.AUTHENTICATED)
DEVICE = """query($id: DeviceIdentityInput!) { device(identity: $id) {
  onCpl isLatest latest { version } upgradePath { version } lineage { version status } cplEntry { number } } }"""
FOUND = {
    "manufacturerId": "106c",
    "modelId": "4331",
    "hardwareVersion": "00ac",
    "firmwareVersion": "00000001",
}
# (document, variables, principal, operation name)
CASES: dict[str, tuple[str, dict[str, Any] | None, Principal, str | None]] = {
    "a device": (DEVICE, {"id": FOUND}, SUPPLIER, None),
    "a device, anonymous": (DEVICE, {"id": FOUND}, ANONYMOUS, None),
    "a resolver's error at its path": (DEVICE, {"id": {**FOUND, "modelId": "zz"}}, SUPPLIER, None),
    "a variable of the wrong type": (DEVICE, {"id": {**FOUND, "modelId": 7}}, SUPPLIER, None),
    "a variable missing": (DEVICE, None, SUPPLIER, None),
    "a NUL in a variable": (DEVICE, {"id": {**FOUND, "modelId": "43\x00"}}, SUPPLIER, None),
    "a document that does not validate": ("{ device { onCpl } }", None, SUPPLIER, None),
    "over the anonymous budget": ("{ cplEntries(first: 90) { nodes { number } } }", None, ANONYMOUS, None),
    "introspection, anonymous": ("{ __schema { queryType { name } } }", None, ANONYMOUS, None),
    "introspection, with a token": ("{ __schema { queryType { name } } }", None, SUPPLIER, None),
    "two operations, no name": ("query A { __typename } query B { __typename }", None, SUPPLIER, None),
    "two operations, one named": (
        "query A { __typename } query B { manufacturers { name } }",
        None,
        SECAS,
        "B",
    ),
    "a named operation, its name not given": ("query Named { __typename }", None, SUPPLIER, None),
    "a mutation refused": (
        'mutation { removeCplEntry(number: 1, reason: "r") { number } }',
        None,
        SUPPLIER,
        None,
    ),
}


def lanes() -> tuple[FirSchema, FirSchema]:
    """The same schema twice: one with the lane, one without (strawberry's pipeline only)."""
    without = build_schema(LIMITS)
    without.lane = None
    return build_schema(LIMITS), without


def shaped(result: Any) -> Any:
    errors = [(e.message, e.path, e.extensions) for e in result.errors or ()]
    return result.data, errors, result.extensions


async def run(schema: FirSchema, pool: asyncpg.Pool, case: str, **options: Any) -> Any:
    query, variables, principal, name = CASES[case]
    context = context_for(pool, principal)
    return await schema.execute(
        query, variable_values=variables, context_value=context, operation_name=name, **options
    )


@pytest.mark.parametrize("case", CASES)
async def test_the_lane_answers_as_the_pipeline(seeded: asyncpg.Pool, case: str) -> None:
    lane, pipeline = lanes()
    expected = shaped(await run(pipeline, seeded, case))
    for _ in range(3):  # the first sight goes strawberry's way, the next ones take the lane
        assert shaped(await run(lane, seeded, case)) == expected
    assert shaped(await run(pipeline, seeded, case)) == expected


async def test_a_known_document_takes_the_lane(seeded: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """No extension object is made for it: strawberry's pipeline makes ten per request."""
    schema, _ = lanes()
    made: list[int] = []
    real = schema.get_extensions
    monkeypatch.setattr(schema, "get_extensions", lambda sync=False: made.append(1) or real(sync))
    first = await run(schema, seeded, "a device")
    assert made == [1] and first.errors is None
    assert first.data["device"]["lineage"] == [{"version": "00000001", "status": "PUBLISHED"}]
    second = await run(schema, seeded, "a device")
    assert made == [1] and second.data == first.data
    # a refusal is strawberry's to answer, every time
    await run(schema, seeded, "introspection, anonymous")
    await run(schema, seeded, "introspection, anonymous")
    assert made == [1, 1, 1]


@pytest.mark.parametrize(
    ("case", "allowed", "raised"),
    [
        ("a mutation refused", {OperationType.QUERY}, InvalidOperationTypeError),
        ("a device", {OperationType.MUTATION}, InvalidOperationTypeError),
    ],
)
async def test_what_strawberry_raises_it_still_raises(
    seeded: asyncpg.Pool, case: str, allowed: set[OperationType], raised: type[Exception]
) -> None:
    """An operation type the transport does not allow (a mutation by GET) is strawberry's to refuse."""
    schema, _ = lanes()
    await run(schema, seeded, case)  # known now, under the default operation types
    for _ in range(2):
        with pytest.raises(raised):
            await run(schema, seeded, case, allowed_operation_types=allowed)


async def test_an_operation_name_that_is_not_there(seeded: asyncpg.Pool) -> None:
    schema, _ = lanes()
    query, _, principal, _ = CASES["a named operation, its name not given"]
    await schema.execute(query, context_value=context_for(seeded, principal))
    for _ in range(2):
        with pytest.raises(CannotGetOperationTypeError):
            await schema.execute(query, context_value=context_for(seeded, principal), operation_name="Other")


@pytest.mark.parametrize(
    ("query", "primary"), [(CASES["a mutation refused"][0], True), ("query { __typename }", False)]
)
async def test_the_lane_routes_reads_as_the_pipeline(seeded: asyncpg.Pool, query: str, primary: bool) -> None:
    """A mutation reads, and writes, on the primary; a query keeps the request's read routing."""
    schema, _ = lanes()
    for _ in range(3):  # strawberry's pipeline, then the lane
        context = context_for(seeded, SUPPLIER)
        routing = object()
        context.loaders.db.reads = routing  # type: ignore[assignment] - only its identity is looked at
        await schema.execute(query, context_value=context)
        assert context.loaders.db.reads is (None if primary else routing)


async def test_the_cases_are_what_they_say(seeded: asyncpg.Pool) -> None:
    """Each refusal among the cases is the refusal it is named for."""
    _, pipeline = lanes()
    codes = {
        "over the anonymous budget": "QUERY_TOO_COMPLEX",
        "introspection, anonymous": "FORBIDDEN",
        "a NUL in a variable": "BAD_USER_INPUT",
        "a document that does not validate": "GRAPHQL_VALIDATION_FAILED",
    }
    for case, code in codes.items():
        result = await run(pipeline, seeded, case)
        assert result.data is None and [e.extensions["code"] for e in result.errors] == [code], case


@pytest.mark.parametrize(
    ("case", "code"),
    [("over the anonymous budget", "QUERY_TOO_COMPLEX"), ("introspection, anonymous", "FORBIDDEN")],
)
async def test_a_document_another_caller_ran_is_still_refused(
    seeded: asyncpg.Pool, case: str, code: str
) -> None:
    """Parsed, validated and analysed for a reader, whom it is allowed: an anonymous caller is still refused."""
    schema, _ = lanes()
    query, variables, _, _ = CASES[case]
    for _ in range(2):
        allowed = await schema.execute(
            query, variable_values=variables, context_value=context_for(seeded, SUPPLIER)
        )
        assert allowed.errors is None
    for _ in range(2):
        refused = await run(schema, seeded, case)
        assert refused.data is None and [e.extensions["code"] for e in refused.errors] == [code]
