"""The SPEC access table, proven over HTTP with real signed tokens: every guarded field as every principal.

Which rule a field has comes from its declaration (schema.access); what each rule must mean is written
out here, independently, as one row of outcomes per principal. Every field declared with a rule other
than PUBLIC, every entity and every mutation needs a query below (the first tests fail otherwise).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from resolvers.access import PUBLIC
from schema.access import ENTITIES, FIELDS
from tests.builders import Builder
from tests.conftest import fresh_database
from tests.e2e.server import running_server

# visible; forbidden (null + FORBIDDEN); hidden (null, no error: another's record is not there);
# unauthenticated (UNAUTHENTICATED: a mutation asked anonymously)
V, F, H, U = "visible", "forbidden", "hidden", "unauthenticated"
TOKENS: dict[str, tuple[str, list[str] | None]] = {
    "reader": ("fir:read", None),
    "maker_106C": ("fir:publish", ["106C"]),
    "maker_1063": ("fir:publish", ["1063"]),
    "reading_maker_1063": ("fir:read fir:publish", ["1063"]),
    "unbound_publisher": ("fir:publish", None),  # no manufacturer claim
    "secas": ("fir:admin", None),
}
PRINCIPALS = ("anonymous", *TOKENS)


def row(
    anonymous: str, reader: str, m106c: str, m1063: str, rm1063: str, unbound: str, secas: str
) -> dict[str, str]:
    return dict(zip(PRINCIPALS, (anonymous, reader, m106c, m1063, rm1063, unbound, secas), strict=True))


# What each rule means for a record of manufacturer 106C ("record"), for a root field that finds
# records by id and filters them by row ("lookup"), for a field without a single owner whose rows
# are filtered instead (the subscription, fleet counts: "filtered"), and for a mutation (whose resolver then checks
# the manufacturer itself; the inputs below fail validation first, so nothing is written).
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("fir", "record"): row(F, V, V, F, V, F, V),
    ("fir", "lookup"): row(F, V, V, H, V, F, V),
    ("fir", "filtered"): row(F, V, V, V, V, F, V),  # no single owner: rows are filtered instead
    ("owner", "record"): row(F, F, V, F, F, F, V),
    ("owner", "mutation"): row(U, F, V, V, V, F, V),
    ("secas", "lookup"): row(F, F, F, F, F, F, V),
    ("secas", "mutation"): row(U, F, F, F, F, F, V),
    ("public", "lookup"): row(V, V, V, V, V, V, V),
}
DEVICE = '{ device(identity: {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "00000001"}) { %s } }'
FLEET = '{ fleetStatus(devices: [{manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC", firmwareVersion: "00000001"}]) { %s } }'
RELEASE = '{ firmwareRelease(id: "%%(%s)s") { %s } }'


@dataclasses.dataclass(frozen=True)
class Case:
    query: str
    path: tuple[Any, ...]
    kind: str = "record"
    # the outcomes of reaching the field's parent: where it is not V, the field is never asked
    parent: tuple[str, str] | None = None
    variables: dict[str, Any] | None = None


FIELD_CASES: dict[str, Case] = {
    "Query.firmwareRelease": Case(RELEASE % ("published", "version"), ("firmwareRelease",), "lookup"),
    "Query.auditLog": Case("{ auditLog(first: 1) { nodes { id } } }", ("auditLog",), "lookup"),
    # each event is filtered by who may read it (tests/resolvers/test_change_feed.py)
    # SECAS's reports
    "Query.unrecordedCplEntries": Case(
        "{ unrecordedCplEntries { number } }", ("unrecordedCplEntries",), "lookup"
    ),
    "Query.blockedSubmissions": Case("{ blockedSubmissions { reason } }", ("blockedSubmissions",), "lookup"),
    "Query.manufacturersWithoutFirmwareContact": Case(
        "{ manufacturersWithoutFirmwareContact { manufacturerId } }",
        ("manufacturersWithoutFirmwareContact",),
        "lookup",
    ),
    # release search: rows filtered in the SQL (tests/resolvers/test_release_search.py)
    "Query.firmwareReleases": Case(
        "{ firmwareReleases(first: 1) { nodes { id } } }", ("firmwareReleases",), "filtered"
    ),
    "Query.changes": Case("{ changes(first: 1) { nodes { kind } } }", ("changes",), "filtered"),
    "Manufacturer.website": Case(
        '{ manufacturer(manufacturerId: "106C") { website } }', ("manufacturer", "website")
    ),
    "Manufacturer.contacts": Case(
        '{ manufacturer(manufacturerId: "106C") { contacts { email } } }', ("manufacturer", "contacts")
    ),
    "CplEntry.release": Case(
        "{ cplEntry(number: %(entry)s) { release { version } } }", ("cplEntry", "release")
    ),
    "DeviceFirmwareStatus.current": Case(DEVICE % "current { version }", ("device", "current")),
    "DeviceFirmwareStatus.latest": Case(DEVICE % "latest { version }", ("device", "latest")),
    "DeviceFirmwareStatus.isLatest": Case(DEVICE % "isLatest", ("device", "isLatest")),
    "DeviceFirmwareStatus.upgradePath": Case(DEVICE % "upgradePath { version }", ("device", "upgradePath")),
    "DeviceFirmwareStatus.lineage": Case(DEVICE % "lineage { version }", ("device", "lineage")),
    "DeviceFirmwareStatus.contacts": Case(DEVICE % "contacts { email }", ("device", "contacts")),
    **{
        f"FleetStatus.{count}": Case(FLEET % count, ("fleetStatus", count), "filtered")
        for count in ("upToDate", "outdated", "noUpgradePath")
    },
    "FirmwareRelease.publishedBy": Case(
        RELEASE % ("published", "publishedBy"), ("firmwareRelease", "publishedBy"), parent=("fir", "lookup")
    ),
    "FirmwareRelease.submittedBy": Case(
        RELEASE % ("published", "submittedBy"), ("firmwareRelease", "submittedBy"), parent=("fir", "lookup")
    ),
    "FirmwareRelease.withdrawnReason": Case(
        RELEASE % ("withdrawn", "withdrawnReason"),
        ("firmwareRelease", "withdrawnReason"),
        parent=("fir", "lookup"),
    ),
    # inputs every caller who passes the rule gets BAD_USER_INPUT for, before any row is touched
    "Mutation.submitFirmwareRelease": Case(
        'mutation { submitFirmwareRelease(input: {manufacturerId: "XYZ", modelId: "4331", hardwareVersion:'
        ' "00AC", firmwareVersion: "00000009", imageHash: "00"}) { id } }',
        ("submitFirmwareRelease",),
        "mutation",
    ),
    "Mutation.withdrawFirmwareRelease": Case(
        'mutation { withdrawFirmwareRelease(id: "%(published)s", reason: " ") { id } }',
        ("withdrawFirmwareRelease",),
        "mutation",
    ),
    "Mutation.amendFirmwareRelease": Case(
        'mutation($r: String) { amendFirmwareRelease(id: "%(published)s", input: {reason: $r}) { id } }',
        ("amendFirmwareRelease",),
        "mutation",
        variables={"r": "x" * 2001},
    ),
    "Mutation.setContacts": Case(
        'mutation { setContacts(manufacturerId: "XYZ", contacts: []) { name } }', ("setContacts",), "mutation"
    ),
    "Mutation.upsertManufacturer": Case(
        'mutation { upsertManufacturer(input: {manufacturerId: "XYZ", name: "x"}) { name } }',
        ("upsertManufacturer",),
        "mutation",
    ),
    "Mutation.listCplEntry": Case(
        'mutation { listCplEntry(input: {number: 77, deviceType: ESME, manufacturerId: "XYZ", modelId: "0001",'
        ' hardwareVersion: "0100", firmwareVersion: "00000001", imageHash: "00"}) { number } }',
        ("listCplEntry",),
        "mutation",
    ),
    "Mutation.removeCplEntry": Case(
        'mutation { removeCplEntry(number: %(entry)s, reason: " ") { number } }',
        ("removeCplEntry",),
        "mutation",
    ),
}
ENTITY_QUERY = "query($r: [_Any!]!) { _entities(representations: $r) { ... on %s { __typename } } }"
ENTITY_CASES: dict[str, Case] = {
    name: Case(ENTITY_QUERY % name, ("_entities", 0), "lookup", variables={"r": [rep]})
    for name, rep in {
        "Manufacturer": {"__typename": "Manufacturer", "manufacturerId": "106C"},
        "DeviceFirmwareStatus": {
            "__typename": "DeviceFirmwareStatus",
            "identity": {
                "manufacturerId": "106C",
                "modelId": "4331",
                "hardwareVersion": "00AC",
                "firmwareVersion": "00000001",
            },
        },
        "DeviceModel": {"__typename": "DeviceModel", "manufacturerId": "106C", "modelId": "4331"},
        "CplEntry": {"__typename": "CplEntry", "number": "%(entry)s"},
        "FirmwareRelease": {"__typename": "FirmwareRelease", "id": "%(published)s"},
    }.items()
}
# Row-level rules, stated directly: drafts and submissions are their owner's and SECAS's; a
# manufacturer's publisher sees its own manufacturer's FIR records; the public CPL is everyone's.
ROW_CASES: dict[str, tuple[Case, dict[str, str]]] = {
    "submitted release of 106C": (
        Case(RELEASE % ("submitted", "version"), ("firmwareRelease",), "lookup"),
        row(F, H, V, H, H, F, V),
    ),
    "revisions of a submitted release of 106C": (
        Case(RELEASE % ("submitted", "revisions { revision }"), ("firmwareRelease", "revisions"), "lookup"),
        row(F, H, V, H, H, F, V),
    ),
    "revisions of a published release of 106C": (
        Case(RELEASE % ("published", "revisions { revision }"), ("firmwareRelease", "revisions"), "lookup"),
        row(F, V, V, H, V, F, V),
    ),
    "draft release of 106C": (
        Case(RELEASE % ("draft", "version"), ("firmwareRelease",), "lookup"),
        row(F, H, V, H, H, F, V),
    ),
    "contacts of 1063": (
        Case('{ manufacturer(manufacturerId: "1063") { contacts { email } } }', ("manufacturer", "contacts")),
        row(F, V, F, V, V, F, V),
    ),
    "1063's own latest release": (
        Case(
            '{ device(identity: {manufacturerId: "1063", modelId: "4772", hardwareVersion: "0101",'
            ' firmwareVersion: "00000001"}) { latest { version } } }',
            ("device", "latest"),
        ),
        row(F, V, F, V, V, F, V),
    ),
    "submittedBy of 1063's own release": (
        Case(RELEASE % ("own_1063", "submittedBy"), ("firmwareRelease", "submittedBy"), "lookup"),
        row(F, F, H, V, V, F, V),
    ),
    "public CPL entry": (
        Case("{ cplEntry(number: %(entry)s) { number imageHash } }", ("cplEntry", "number")),
        dict.fromkeys(PRINCIPALS, V),
    ),
    "public manufacturer name": (
        Case('{ manufacturer(manufacturerId: "106C") { name } }', ("manufacturer", "name")),
        dict.fromkeys(PRINCIPALS, V),
    ),
}


def expected_for(case: Case, rule: str) -> dict[str, str]:
    own = EXPECTED[(rule, case.kind)]
    if case.parent is None:
        return own
    parent = EXPECTED[case.parent]
    return {who: own[who] if parent[who] == V else parent[who] for who in PRINCIPALS}


def declared(type_name: str, field_name: str) -> str:
    return FIELDS[type_name][field_name].name


CASES: dict[str, tuple[Case, dict[str, str]]] = {
    **{name: (case, expected_for(case, declared(*name.split(".")))) for name, case in FIELD_CASES.items()},
    **{
        f"_entities {name}": (case, expected_for(case, ENTITIES[name].name))
        for name, case in ENTITY_CASES.items()
    },
    **ROW_CASES,
}


@pytest.fixture(scope="module")
async def matrix_db(pg_server: Any, template_db: str) -> tuple[str, dict[str, int]]:
    url = await fresh_database(pg_server.url, template_db)
    conn = await asyncpg.connect(url)
    try:
        b = Builder(conn)
        await b.manufacturer("106C")
        await b.manufacturer("1063", "Other Maker Ltd")
        await b.model("106C", "4331", "CHF")
        await b.model("1063", "4772", "GSME")
        published = await b.release("106C", "4331", "00AC", "00000001", date="2020-01-01")
        # names a submission as a source too: only those who may see it see that
        published_2 = await b.release(
            "106C", "4331", "00AC", "00000002", date="2021-01-01", upgradable_from=("00000001", "00000003")
        )
        submitted = await b.release(
            "106C", "4331", "00AC", "00000003", date="2022-01-01", status="SUBMITTED", cpl_status=None
        )
        draft = await b.release(
            "106C", "4331", "00AC", "00000004", date="2022-02-01", status="DRAFT", cpl_status=None
        )
        withdrawn = await b.release("106C", "4331", "00AC", "00000005", date="2022-03-01", status="WITHDRAWN")
        own_1063 = await b.release("1063", "4772", "0101", "00000001", date="2020-01-01")
        await conn.execute("update firmware_releases set submitted_by = 'maker-subject'")
        entry = await conn.fetchval("select cpl_entry_number from firmware_releases where id = $1", published)
    finally:
        await conn.close()
    ids = dict(
        published=published,
        published_2=published_2,
        submitted=submitted,
        draft=draft,
        withdrawn=withdrawn,
        own_1063=own_1063,
    )
    return url, {**ids, "entry": entry}


@pytest.fixture(scope="module")
def server(
    matrix_db: tuple[str, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, dict[str, str | None], dict[str, int]]]:
    url, ids = matrix_db
    data_dir: Path = tmp_path_factory.mktemp("matrix")
    with running_server(url, data_dir, FIR_DEV_AUTH="1") as base:
        settings = dataclasses.replace(
            load_settings(None), data_dir=data_dir, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        issuer = DevIssuer(settings)
        tokens: dict[str, str | None] = {"anonymous": None}
        tokens |= {
            name: issuer.mint(scope, makers, f"matrix-{name}") for name, (scope, makers) in TOKENS.items()
        }
        with httpx.Client(base_url=base, timeout=10) as client:
            yield client, tokens, ids


def test_every_guarded_field_and_mutation_has_a_case() -> None:
    guarded = {
        f"{type_name}.{field}"
        for type_name, rules in FIELDS.items()
        for field, rule in rules.items()
        if rule is not PUBLIC or type_name == "Mutation"
    }
    assert guarded - {f"Subscription.{name}" for name in SUBSCRIPTIONS} == set(FIELD_CASES), (
        "add the field to FIELD_CASES"
    )


def test_every_entity_has_a_case() -> None:
    assert set(ENTITIES) == set(ENTITY_CASES), "add the entity to ENTITY_CASES"


def _substitute(value: Any, ids: dict[str, int]) -> Any:
    return json.loads(json.dumps(value) % ids) if value is not None else None


def outcome(body: dict[str, Any], path: tuple[Any, ...]) -> str:
    value: Any = body["data"]
    for key in path:
        value = value[key] if value is not None else None
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    if "UNAUTHENTICATED" in codes:
        return U
    if "FORBIDDEN" in codes:
        assert value in (None, []), "a forbidden field must not carry data"
        return F
    if path[0] in FIELDS["Mutation"]:
        return V  # past the rule: refused by validation, as these inputs are meant to be
    assert not codes, body
    return H if value is None else V


@pytest.mark.parametrize(("name", "who"), [(name, who) for name in CASES for who in PRINCIPALS])
def test_visibility(
    server: tuple[httpx.Client, dict[str, str | None], dict[str, int]], name: str, who: str
) -> None:
    client, tokens, ids = server
    case, expected = CASES[name]
    token = tokens[who]
    headers = {"authorization": f"Bearer {token}"} if token else {}
    payload = {"query": case.query % ids, "variables": _substitute(case.variables, ids)}
    response = client.post("/graphql", json=payload, headers=headers)
    assert response.status_code == 200
    assert outcome(response.json(), case.path) == expected[who], response.json()


def test_upgradable_from_versions_lists_only_what_the_caller_may_see(
    server: tuple[httpx.Client, dict[str, str | None], dict[str, int]], matrix_db: tuple[str, dict[str, int]]
) -> None:
    """A published release naming a submission (not on the CPL) as a source shows it to its owner only."""
    client, tokens, ids = server
    query = RELEASE % ("published_2", "upgradableFromVersions")
    seen = {}
    for who in ("reader", "maker_106C", "secas"):
        token = tokens[who]
        body = client.post(
            "/graphql", json={"query": query % ids}, headers={"authorization": f"Bearer {token}"}
        ).json()
        seen[who] = body["data"]["firmwareRelease"]["upgradableFromVersions"]
    assert seen == {
        "reader": ["00000001"],
        "maker_106C": ["00000001", "00000003"],
        "secas": ["00000001", "00000003"],
    }


SUBSCRIPTIONS = {
    "firmwareReleased": 'subscription { firmwareReleased(manufacturerIds: ["not hex"]) { version } }',
    "changed": 'subscription { changed(manufacturerIds: ["not hex"]) { kind } }',
}


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("name", SUBSCRIPTIONS)
async def test_subscription(
    server: tuple[httpx.Client, dict[str, str | None], dict[str, int]], who: str, name: str
) -> None:
    """Over a real WebSocket: past the rule, the malformed filter is BAD_USER_INPUT; else FORBIDDEN."""
    client, tokens, _ = server
    expected = EXPECTED[(declared("Subscription", name), "filtered")]
    token = tokens[who]
    url = str(client.base_url).replace("http", "ws") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTIONS[name]}}))
        reply = json.loads(await ws.recv())
    errors = reply["payload"] if reply["type"] == "error" else reply["payload"]["errors"]
    codes = {e["extensions"]["code"] for e in errors}
    assert codes == ({"BAD_USER_INPUT"} if expected[who] == V else {"FORBIDDEN"})
