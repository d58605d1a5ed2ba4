"""The compiled executor A/B: server CPU per lineage request, compiled on and off and the baseline, taking turns."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loaders.demo import Identity
from tests.perf import lineage, profile
from tests.perf.servers import Server, mint_read_token, running
from tests.perf.tail import Tail

# (server, token, path, bodies, duration) -> the measured run; run.py's throughput
Measure = Callable[[Server, str, str, list[bytes], float], Tail]
SIDES = ("compiled", "graphql-core", "baseline")
# where a request's time goes, as inclusive percentages of the samples (py-spy names, file base names)
STAGES = {
    "the whole GraphQL request": "GraphQLEndpoint.__call__ (graphql.py)",
    "strawberry's operation (parse, validate, cost, execute)": "Schema.execute (schema.py)",
    "cost analysis": "analyse (cost.py)",
    "execution, graphql-core": "Executor.execute_operation (executor.py)",
    "execution, compiled": "CompiledExecutor.execute_operation (executor.py)",
    "DataLoader batches (SQL, rows to objects)": "dispatch_queue_batch (__init__.py)",
}


@dataclass
class CompiledAB:
    runs: dict[str, list[Tail]] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)

    def cpu_ms(self, side: str) -> float:
        """CPU per request over all of a side's runs (total CPU over total answers)."""
        tails = self.runs.get(side, [])
        answers = sum(t.load.requests for t in tails)
        return 1000 * sum(t.cpu_seconds for t in tails) / answers if answers else float("nan")

    def worst_p99(self, side: str) -> float:
        return max((t.load.p99_ms for t in self.runs.get(side, [])), default=float("nan"))

    def lines(self) -> list[str]:
        base, on, off = (self.cpu_ms(side) for side in ("baseline", "compiled", "graphql-core"))
        return [
            "Compiled executor A/B (FIR_COMPILED_EXECUTOR=1 vs 0, cache off, 64 clients, interleaved):",
            f"  server CPU per request: compiled {on:.2f} ms, graphql-core {off:.2f} ms = {on / off:.2f}x;"
            f" baseline endpoint {base:.2f} ms",
            f"  lineage vs baseline (requests per CPU second): compiled {base / on:.2f}x,"
            f" graphql-core {base / off:.2f}x (target >= 0.4x)",
            f"  worst p99: compiled {self.worst_p99('compiled'):.0f} ms,"
            f" graphql-core {self.worst_p99('graphql-core'):.0f} ms",
        ]


def measure(url: str, tmp: Path, ids: list[Identity], throughput: Measure, duration: float) -> CompiledAB:
    """Two servers, compiled on and off; each round runs both and the baseline endpoint, in turn."""
    found = CompiledAB()
    bodies = {"graphql": lineage.graphql_bodies(ids), "baseline": lineage.baseline_bodies(ids)}
    with contextlib.ExitStack() as stack:
        servers = {
            side: stack.enter_context(
                running(
                    tmp / f"compiled-{flag}",
                    url,
                    FIR_CACHE="0",
                    FIR_BASELINE_ENDPOINT="1",
                    FIR_COMPILED_EXECUTOR=flag,
                )
            )
            for side, flag in (("compiled", "1"), ("graphql-core", "0"))
        }
        tokens = {side: mint_read_token(server) for side, server in servers.items()}
        for _ in range(2):
            for side in SIDES:
                server_side = "compiled" if side == "baseline" else side
                path, kind = (
                    ("/baseline/device", "baseline") if side == "baseline" else ("/graphql", "graphql")
                )
                tail = throughput(servers[server_side], tokens[server_side], path, bodies[kind], duration)
                found.runs.setdefault(side, []).append(tail)
        for side in ("graphql-core", "compiled"):
            sampled = profile.sample(servers[side], tokens[side], bodies["graphql"], 4, 2000, 1000)
            found.profiles += [*stages(side, sampled), ""]
    return found


def stages(side: str, sampled: profile.Profile) -> list[str]:
    """The usual top 25 frames, then the share of chosen stages (the top inclusive frames are all framework)."""
    inclusive = dict(sampled.inclusive)
    top = profile.Profile(sampled.load, sampled.own[:25], sampled.inclusive[:25])
    shares = [f"  {inclusive.get(frame, 0.0):5.1f}  {name}" for name, frame in STAGES.items()]
    label = f"FIR_COMPILED_EXECUTOR={int(side == 'compiled')}"
    return [*profile.render(label, top), "", "stages, inclusive %:", *shares]
