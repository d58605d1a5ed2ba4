"""Generative tests over real HTTP: hostile and well-formed input alike never end as INTERNAL or a 5xx.

The strategies mix well-formed hex identities, cursors and ids (so that requests get past validation
and reach the resolvers and SQL) with hostile strings: NUL, other scripts' digits, huge numbers,
wrong JSON types. Examples are derandomised (the same every run) and bounded to keep CI fast.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.builders import building
from tests.conftest import fresh_database
from tests.e2e.server import running_server

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    # no shrinking: each step is an HTTP request, and CI time is bounded; the first failure is shown
    phases=[Phase.explicit, Phase.generate],
)
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)

# --- strategies ------------------------------------------------------------------------------------

hostile = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),  # any script, NUL included
    st.sampled_from(
        [
            "\x00",
            "1\x00",
            "\u0661\u0662\u0663",
            "\u0967",
            "\u00b2",  # superscript two: str.isdigit() says yes, int() refuses it
            "\u2460",  # circled one: likewise
            "\uff11",
            "9" * 30,
            "-1",
            "0x1F",
            " ",
            "'; drop table x; --",
        ]
    ),
    st.text("0123456789abcdefABCDEF\x00 ", max_size=12),
)


def hex_digits(n: int) -> st.SearchStrategy[str]:
    digits = st.text("0123456789abcdefABCDEF", min_size=n, max_size=n)
    return st.tuples(st.sampled_from(["", " "]), digits, st.sampled_from(["", "  "])).map("".join)


def field(n: int) -> st.SearchStrategy[Any]:
    """Mostly well formed, so fuzzing reaches the resolvers; sometimes hostile or of the wrong type."""
    return st.one_of(
        hex_digits(n),
        hex_digits(n),
        st.sampled_from(["106C", "4331", "00AC", "00000001"][: 1 + n // 4]),
        hostile,
        JSON_SCALARS,
    )


IDENTITY_FIELDS = (("manufacturerId", 4), ("modelId", 4), ("hardwareVersion", 4), ("firmwareVersion", 8))
identity = st.fixed_dictionaries({name: field(n) for name, n in IDENTITY_FIELDS})
fleet_device = st.fixed_dictionaries(
    {name: field(n) for name, n in IDENTITY_FIELDS}, optional={"ref": st.one_of(hostile, JSON_SCALARS)}
)


def encoded(kind: str) -> st.SearchStrategy[str]:
    """Mostly this list's own prefix, with positions of every shape: numbers past int32 and int64 too."""
    key = st.one_of(
        st.integers(0, 2**31 + 10).map(str),
        st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**25]).map(str),  # past int32, int64
        st.text("0123456789", min_size=10, max_size=25),
        st.integers(-(2**70), 2**70).map(str),
        hostile,
        hex_digits(4),
        st.just("106C/4331"),
    )
    prefix = st.sampled_from([kind, kind, kind, "cpl", "audit", "x"])
    return st.tuples(prefix, key).map(
        lambda parts: base64.urlsafe_b64encode(f"{parts[0]}:{parts[1]}".encode()).decode()
    )


def cursor(kind: str) -> st.SearchStrategy[Any]:
    return st.one_of(encoded(kind), encoded(kind), encoded(kind), hostile, JSON_SCALARS)


release_id = st.one_of(
    st.integers(-(2**70), 2**70).map(str), st.integers(0, 50).map(str), hostile, JSON_SCALARS
)
representation = st.one_of(
    st.fixed_dictionaries(
        {
            "__typename": st.sampled_from(
                ["Manufacturer", "DeviceModel", "CplEntry", "FirmwareRelease", "Nope"]
            )
        },
        optional={
            "manufacturerId": field(4),
            "modelId": field(4),
            "hardwareVersion": field(4),
            "firmwareVersion": field(8),
            "number": st.one_of(st.integers(-(2**40), 2**40), hostile),
            "id": release_id,
        },
    ),
    JSON_SCALARS,
    st.lists(JSON_SCALARS, max_size=2),
)
page = st.one_of(
    st.none(), st.none(), st.integers(0, 100), st.integers(-5, 150), st.integers(-(2**40), 2**40)
)

DEVICE = """query($i: DeviceIdentityInput!) { device(identity: $i) {
  onCpl isLatest identity { manufacturerId } cplEntry { number } latest { version } upgradePath { version }
  lineage { version upgradableFrom { version } } contacts { email } model { name } manufacturer { name }
} }"""
FLEET = """query($d: [FleetDeviceInput!]!) { fleetStatus(devices: $d) {
  total distinct invalid problems { index ref field message } groups { count refs status { onCpl isLatest } }
} }"""
LISTS = {
    "cpl": "query($f: Int, $a: String, $m: String) { cplEntries(first: $f, after: $a, manufacturerId: $m) { edges { cursor node { number model { name } } } } }",
    "manufacturer": "query($f: Int, $a: String) { manufacturers(first: $f, after: $a) { edges { cursor node { name deviceModels { modelId } } } } }",
    "model": "query($f: Int, $a: String, $m: String) { deviceModels(first: $f, after: $a, manufacturerId: $m) { edges { cursor node { modelId } } } }",
}
AUDIT = "query($f: Int, $a: String) { auditLog(first: $f, after: $a) { edges { cursor node { action } } } }"
LOOKUPS = """query($id: ID!, $m: String!, $n: Int!) {
  firmwareRelease(id: $id) { version } manufacturer(manufacturerId: $m) { name } cplEntry(number: $n) { number }
}"""
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename ... on Manufacturer { manufacturerName: name } ... on DeviceModel { modelName: name }
  ... on CplEntry { number } ... on FirmwareRelease { version }
} }"""
SUBMIT = """mutation($i: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $i) { id status } }"""
WITHDRAW = "mutation($id: ID!, $r: String!) { withdrawFirmwareRelease(id: $id, reason: $r) { id } }"
submission = st.fixed_dictionaries(
    {name: field(n) for name, n in IDENTITY_FIELDS} | {"imageHash": st.one_of(hex_digits(64), hostile)},
    optional={
        "releaseNotes": hostile,
        "releaseDate": st.one_of(st.dates().map(str), hostile),
        "advisories": st.lists(st.one_of(st.just("CVE-2026-1234"), hostile), max_size=3),
        "upgradableFrom": st.lists(st.one_of(hex_digits(8), hostile), max_size=3),
        "idempotencyKey": hostile,
        "urgency": st.sampled_from(["LOW", "HIGH", "nope"]),
    },
)

# --- the server ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Server:
    client: httpx.Client
    tokens: dict[str, str | None]

    def post(self, who: str, query: str, variables: dict[str, Any]) -> httpx.Response:
        token = self.tokens[who]
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return self.client.post(
            "/graphql",
            # the standard library writes integers of any size (orjson refuses past 64 bits)
            content=json.dumps({"query": query, "variables": variables}),
            headers={**headers, "content-type": "application/json"},
        )


@pytest.fixture(scope="module")
async def fuzz_db(pg_server: Any, template_db: str) -> str:
    url = await fresh_database(pg_server.url, template_db)
    async with building(url) as b:
        await b.chain("00000001", "00000002")
    return url


@pytest.fixture(scope="module")
def server(fuzz_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    with running_server(fuzz_db, data_dir, FIR_DEV_AUTH="1", FIR_CACHE="0") as base:
        settings_ = dataclasses.replace(
            load_settings(None), data_dir=data_dir, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        issuer = DevIssuer(settings_)
        tokens: dict[str, str | None] = {
            "anonymous": None,
            "reader": issuer.mint("fir:read", None, "fuzz-reader"),
            "maker": issuer.mint("fir:publish", ["106C"], "fuzz-maker"),
            "secas": issuer.mint("fir:admin", None, "fuzz-secas"),
        }
        with httpx.Client(base_url=base, timeout=30) as client:
            yield Server(client, tokens)


def assert_client_error_at_most(response: httpx.Response, *, document_is_ours: bool = True) -> None:
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert isinstance(body, dict), body
    found = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or ()}
    assert "INTERNAL" not in found and None not in found, body["errors"]
    if document_is_ours:  # a fixed document that does not validate would test nothing past it
        assert not found & {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}, body["errors"]


who = st.sampled_from(["anonymous", "reader", "maker", "secas"])

# --- the properties --------------------------------------------------------------------------------


@FUZZ
@given(who=who, ident=identity)
def test_device(server: Server, who: str, ident: dict[str, Any]) -> None:
    assert_client_error_at_most(server.post(who, DEVICE, {"i": ident}))


@FUZZ
@given(who=who, devices=st.lists(fleet_device, max_size=8))
def test_fleet(server: Server, who: str, devices: list[dict[str, Any]]) -> None:
    assert_client_error_at_most(server.post(who, FLEET, {"d": devices}))


def list_test(kind: str) -> Any:
    @FUZZ
    @given(who=who, first=page, after=cursor(kind), maker=st.one_of(st.none(), st.none(), field(4)))
    def test(server: Server, who: str, first: Any, after: Any, maker: Any) -> None:
        variables = {"f": first, "a": after} | ({"m": maker} if "$m" in LISTS[kind] else {})
        assert_client_error_at_most(server.post(who, LISTS[kind], variables))

    return test


test_cpl_entries = list_test("cpl")
test_manufacturers = list_test("manufacturer")
test_device_models = list_test("model")


@FUZZ
@given(who=who, first=page, after=cursor("audit"))
def test_audit_log(server: Server, who: str, first: Any, after: Any) -> None:
    assert_client_error_at_most(server.post(who, AUDIT, {"f": first, "a": after}))


@FUZZ
@given(
    who=who,
    rid=release_id,
    maker=field(4),
    number=st.one_of(st.integers(-(2**40), 2**40), JSON_SCALARS, hostile),
)
def test_lookups(server: Server, who: str, rid: Any, maker: Any, number: Any) -> None:
    assert_client_error_at_most(server.post(who, LOOKUPS, {"id": rid, "m": maker, "n": number}))


@FUZZ
@given(who=who, reps=st.lists(representation, max_size=6))
def test_entities(server: Server, who: str, reps: list[Any]) -> None:
    assert_client_error_at_most(server.post(who, ENTITIES, {"r": reps}))


@FUZZ
@given(
    who=st.sampled_from(["maker", "secas", "reader"]), submitted=submission, rid=release_id, reason=hostile
)
def test_mutations(server: Server, who: str, submitted: dict[str, Any], rid: Any, reason: Any) -> None:
    assert_client_error_at_most(server.post(who, SUBMIT, {"i": submitted}))
    assert_client_error_at_most(server.post(who, WITHDRAW, {"id": rid, "r": reason}))


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.recursive(
            JSON_SCALARS | hostile,
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["query", "variables", "operationName", "extensions", "x"]),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=8,
        ).map(lambda value: json.dumps(value).encode()),
    ),
    method=st.sampled_from(["POST", "GET"]),
)
def test_raw_requests(server: Server, body: bytes, method: str) -> None:
    if method == "POST":
        response = server.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    else:
        text = body.decode("utf-8", "replace")
        response = server.client.get(
            "/graphql", params={"query": text, "variables": text, "operationName": text}
        )
    assert_client_error_at_most(response, document_is_ours=False)
