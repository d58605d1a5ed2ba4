"""N+1 guard: the number of SQL statements per query is constant, whatever the page size."""

from __future__ import annotations

import asyncpg
import pytest

from loaders.batching import DbLoader
from resolvers.devices import DeviceStatusBatch
from schema.schema import build_schema
from tests.builders import SUPPLIER, Builder, execute

PAGE = """query($first: Int!) { cplEntries(first: $first) { edges { node {
  number firmwareVersion model { name deviceType manufacturer { name contacts { email } } }
  manufacturer { name } release { version upgradableFrom { version } }
} } pageInfo { hasNextPage endCursor } } }"""

DEVICE = """{ device(identity: {manufacturerId: "1001", modelId: "0001", hardwareVersion: "0001",
  firmwareVersion: "00000001"}) {
  onCpl isLatest cplEntry { number } model { name } manufacturer { name contacts { email } }
  current { version } latest { version } upgradePath { version } lineage { version upgradesTo { version } }
  contacts { role }
} }"""


LINEAGE = DEVICE.split(") {")[0] + ") { onCpl isLatest cplEntry { number } lineage { version } } }"


@pytest.fixture
async def catalogue(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        b = Builder(conn)
        for m in range(1, 6):
            mid = f"10{m:02d}"
            await b.manufacturer(mid)
            for model in range(1, 6):
                model_id = f"{model:04d}"
                await b.model(mid, model_id)
                previous: tuple[str, ...] = ()
                for fw in range(1, 5):
                    version = f"{fw:08d}"
                    await b.release(
                        mid, model_id, "0001", version, date=f"202{fw}-01-01", upgradable_from=previous
                    )
                    previous = (version,)


@pytest.mark.parametrize("first", [5, 50])
async def test_cpl_page_statement_count_is_constant(pool: asyncpg.Pool, catalogue: None, first: int) -> None:
    result = await execute(build_schema(), pool, PAGE, SUPPLIER, first=first)
    assert result.errors is None, result.errors
    assert len(result.data["cplEntries"]["edges"]) == first
    # page, models, manufacturers, contacts, releases by identity, releases by model+hw
    assert result.context.loaders.db.log.count == 6, result.context.loaders.db.log.statements


async def test_device_statement_count(pool: asyncpg.Pool, catalogue: None) -> None:
    result = await execute(build_schema(), pool, DEVICE, SUPPLIER)
    assert result.errors is None, result.errors
    assert result.data["device"]["isLatest"] is False
    # one statement (loaders.devices.device_rows): identity rows (CPL entry, model, manufacturer), the
    # releases of the model and hardware version and, as the operation selects them, the contacts;
    # upgradesTo reads the releases it primed (was 3: identity rows, releases, contacts)
    assert result.context.loaders.db.log.count == 1, result.context.loaders.db.log.statements


async def test_a_device_query_makes_no_loader_only_to_prime_it(pool: asyncpg.Pool, catalogue: None) -> None:
    """The rows the device statement read wait for the loader a nested field asks for (DEVICE's
    cplEntry, model, manufacturer, contacts, upgradesTo: still one statement): a query that reads
    none of them, like the lineage workload, makes no loader at all."""
    result = await execute(build_schema(), pool, LINEAGE, SUPPLIER)
    assert result.errors is None, result.errors
    assert result.data["device"]["lineage"] and result.data["device"]["cplEntry"]["number"]
    loaders = result.context.loaders
    assert loaders.db.log.count == 1, loaders.db.log.statements
    assert [name for name, value in vars(loaders).items() if isinstance(value, DbLoader)] == []


async def test_twenty_device_fields_share_one_statement(pool: asyncpg.Pool, catalogue: None) -> None:
    """Aliased device fields go through the request's device batch, as _entities does (review: each
    had its own statement); a repeated identity is asked once."""
    fields = " ".join(
        f'd{n}: device(identity: {{manufacturerId: "10{1 + n % 5:02d}", modelId: "{1 + n // 5 % 4:04d}",'
        f' hardwareVersion: "0001", firmwareVersion: "00000001"}}) {{ onCpl lineage {{ version }} }}'
        for n in range(20)
    )
    result = await execute(build_schema(), pool, f"{{ {fields} }}", SUPPLIER)
    assert result.errors is None, result.errors
    assert len(result.data) == 20 and all(d["lineage"] for d in result.data.values())
    assert result.context.loaders.db.log.count == 1, result.context.loaders.db.log.statements


ONE = 'd{n}: device(identity: {{manufacturerId: "1001", modelId: "0001", hardwareVersion: "0001", firmwareVersion: "0000000{v}"}}) {{ onCpl }}'


@pytest.mark.parametrize(
    ("query", "batched"),
    [
        (f"{{ {ONE.format(n=1, v=1)} }}", False),
        (f"{{ ... on Query {{ {ONE.format(n=1, v=1)} }} manufacturers {{ nodes {{ name }} }} }}", False),
        (f"{{ {ONE.format(n=1, v=1)} {ONE.format(n=2, v=2)} }}", True),
        (f"{{ {ONE.format(n=1, v=1)} ...F }} fragment F on Query {{ {ONE.format(n=2, v=2)} }}", True),
        (f"{{ {ONE.format(n=1, v=1)} {ONE.format(n=1, v=1)} }}", True),  # one key, two nodes: merged
    ],
)
async def test_the_operations_only_device_field_needs_no_batch(
    pool: asyncpg.Pool, catalogue: None, query: str, batched: bool
) -> None:
    """schema.devices.alone: one device field in the operation issues its statement at once (no
    batch, no task); two go through the request's batch and still share one statement."""
    result = await execute(build_schema(), pool, query, SUPPLIER)
    assert result.errors is None, result.errors
    assert all(d["onCpl"] for key, d in result.data.items() if key.startswith("d"))
    assert (DeviceStatusBatch in result.context.memo) is batched
    assert sum("union all" in sql for sql in result.context.loaders.db.log.statements) == 1


METERS = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on DeviceFirmwareStatus {
  onCpl isLatest cplEntry { number model { name } } manufacturer { name } latest { version }
  upgradePath { version } contacts { email }
} } }"""
FLEET = """query($devices: [FleetDeviceInput!]!) { fleetStatus(devices: $devices) { groups { status {
  onCpl isLatest cplEntry { number model { name } } manufacturer { name } latest { version }
  upgradePath { version } contacts { email }
} } } }"""


async def test_a_thousand_federated_meters_cost_what_a_fleet_of_a_thousand_costs(
    pool: asyncpg.Pool, catalogue: None
) -> None:
    # 1,000 distinct identities over the 25 models, four of every forty on the CPL
    identities = [
        {
            "manufacturerId": f"10{1 + n % 5:02d}",
            "modelId": f"{1 + n // 5 % 5:04d}",
            "hardwareVersion": "0001",
            "firmwareVersion": f"{1 + n // 25:08d}",
        }
        for n in range(1000)
    ]
    schema = build_schema()
    reps = [{"__typename": "DeviceFirmwareStatus", "identity": i} for i in identities]
    meters = await execute(schema, pool, METERS, SUPPLIER, reps=reps)
    assert meters.errors is None, meters.errors
    found = meters.data["_entities"]
    assert len(found) == 1000 and found[0]["upgradePath"] and sum(m["onCpl"] for m in found) == 100
    fleet = await execute(schema, pool, FLEET, SUPPLIER, devices=identities)
    assert fleet.errors is None, fleet.errors
    assert len(fleet.data["fleetStatus"]["groups"]) == 1000
    # identity rows, releases by model+hw and contacts in one statement, either way (was 3)
    assert meters.context.loaders.db.log.count == fleet.context.loaders.db.log.count == 1, (
        meters.context.loaders.db.log.statements
    )
