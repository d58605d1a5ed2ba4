"""`python -m tests.perf.layers`: the CPU one lineage request spends in each layer, in one process.

Each layer is the one below it plus one step: the driver's round trip for the device statement, the
rows built from it, the device statuses (visibility, the listing-order pass, the analysis, priming),
then the schema over them, for `{ __typename }`, a device's `onCpl` and the whole lineage query. The
baseline's statement (loaders/baseline.py) stands beside them. No HTTP, no load generator and no
second process but PostgreSQL: the layers take turns in rounds, and each figure is the median of its
rounds, so a machine whose speed drifts moves all of them alike. What a layer adds is the difference
from the layer it builds on; CPU time of this process only (PostgreSQL's is not counted).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import uvloop

from gateway.context import build_context
from gateway.resources import Resources
from gateway.settings import load_settings
from loaders import baseline
from loaders.db import Db, create_pool
from loaders.demo import Identity
from loaders.devices import DeviceAsk, device_rows, device_sql
from resolvers.context import Context
from resolvers.devices import device_statuses
from resolvers.identity import Identity as DeviceIdentity
from schema.schema import build_schema
from tests.builders import SUPPLIER
from tests.perf import databases, lineage, report
from tests.perf.report import Row

ROUNDS = 12
PER_ROUND = 300  # calls of one layer in one round
WARM_UP = 200
ON_CPL = "query($id: DeviceIdentityInput!) { device(identity: $id) { onCpl } }"
BEGIN, END = "<!-- layers: begin -->", "<!-- layers: end -->"

Layer = Callable[[Identity], Awaitable[Any]]
# name, the layer it builds on (None: it stands alone)
LAYERS: tuple[tuple[str, str | None], ...] = (
    ("baseline statement and rows", None),
    ("device statement (driver)", None),
    ("device rows", "device statement (driver)"),
    ("device statuses", "device rows"),
    ("schema: { __typename }", None),
    ("schema: device { onCpl }", "device statuses"),
    ("schema: lineage query", "schema: device { onCpl }"),
)


def layers(pool: asyncpg.Pool) -> dict[str, Layer]:
    resources = Resources(settings=load_settings(env_file=None), pool=pool)
    schema = build_schema()
    ask = DeviceAsk()

    def context() -> Context:
        return build_context(resources, SUPPLIER)

    async def graphql(query: str, variables: dict[str, Any] | None) -> None:
        result = await schema.execute(query, variable_values=variables, context_value=context())
        assert result.errors is None, result.errors

    async def driver(i: Identity) -> None:
        await Db(pool).fetch_keyed(device_sql(ask, single=True), *i)

    async def rows(i: Identity) -> None:
        await device_rows(Db(pool), [i], [i[:3]], [], ask)

    async def statuses(i: Identity) -> None:
        await device_statuses(context(), [DeviceIdentity(*i)])

    async def base(i: Identity) -> None:
        await baseline.device(pool, i)

    async def typename(i: Identity) -> None:
        await graphql("{ __typename }", None)

    async def on_cpl(i: Identity) -> None:
        await graphql(ON_CPL, {"id": lineage.variables(i)})

    async def whole(i: Identity) -> None:
        await graphql(lineage.QUERY, {"id": lineage.variables(i)})

    made = [base, driver, rows, statuses, typename, on_cpl, whole]
    return {name: layer for (name, _), layer in zip(LAYERS, made, strict=True)}


async def measure(url: str, ids: list[Identity], rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Microseconds of CPU per call, one entry per round, for each layer."""
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        found = layers(pool)
        for layer in found.values():
            for k in range(WARM_UP):
                await layer(ids[k % len(ids)])
        spent: dict[str, list[float]] = {name: [] for name in found}
        for r in range(rounds):
            order = list(found.items()) if r % 2 == 0 else list(reversed(found.items()))
            for name, layer in order:
                started = time.process_time()
                for k in range(PER_ROUND):
                    await layer(ids[(r * PER_ROUND + k) % len(ids)])
                spent[name].append((time.process_time() - started) / PER_ROUND * 1e6)
        return spent
    finally:
        await pool.close()


def rows(spent: dict[str, list[float]]) -> list[Row]:
    median = {name: statistics.median(v) for name, v in spent.items() if v}
    found: list[Row] = []
    for name, below in LAYERS:
        if name not in median:
            continue
        adds = f"; adds {median[name] - median[below]:.0f} us to {below}" if below in median else ""
        found.append(Row(f"in-process CPU per call: {name}", f"{median[name]:.0f} us{adds}"))
    return found


def section(
    spent: dict[str, list[float]], facts: list[tuple[str, str]], more: list[str] | None = None
) -> str:
    """The layers' figures, replaceable on their own (`--only layers`), and `more` lines after them
    (the instructions per call, tests/perf/instructions.py)."""
    return "\n".join(
        [
            BEGIN,
            "## Where a lineage request's CPU goes",
            "",
            "Measured by `python -m tests.perf.run --only layers` (also part of `make bench`): one process,"
            f" no HTTP; {ROUNDS} rounds of {PER_ROUND} calls per layer, the layers taking turns (the order"
            " reversed every other round), over 1,000 distinct demo identities; the median of the rounds;"
            " CPU time of the measuring process (PostgreSQL's not counted). Each layer includes the one it"
            " adds to. `{ __typename }` is the schema's own cost for an operation (extensions, cost, the"
            " executor); `device { onCpl }` adds the device field (identity input, the batch loader, the"
            " status object) to the device statuses; the lineage query adds its fields' execution.",
            "",
            *(f"- {name}: {value}" for name, value in facts if name in ("date", "revision")),
            "",
            report.table(rows(spent)),
            "",
            *(f"- {name}: rounds {min(v):.0f}-{max(v):.0f} us" for name, v in spent.items() if v),
            "",
            *(more or []),
            END,
        ]
    )


def run(url: str, ids: list[Identity]) -> dict[str, list[float]]:
    """On uvloop, as `fir serve` runs."""
    return uvloop.run(measure(url, ids))


def main() -> None:
    with databases.postgres() as pg:
        url, _ = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, 1000))
        spent = run(url, ids)
    print(report.table(rows(spent)))


if __name__ == "__main__":
    main()
