"""Instructions per HTTP request of a real `fir serve`, counted by callgrind: what the layers leave out.

tests/perf/instructions.py counts a lineage request's layers in one process, without HTTP. This runs
the gateway itself under `valgrind --tool=callgrind --instr-atstart=no` (cache off, the baseline
endpoint on) and one client sending requests one at a time over a kept-alive connection; for each
request kind the counters are zeroed after a warm-up and dumped after the counted requests. The
difference from the in-process figures is what uvicorn, Starlette, the middleware, authentication and
the response cost per request. Like the layers' counts, the same from run to run whatever the
machine's load; the kernel's work (the sockets) and PostgreSQL's are not counted.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import orjson

from loaders.demo import Identity
from tests.e2e.server import free_port
from tests.perf import instructions, lineage
from tests.perf.servers import Server, mint_read_token, server_env, stop, wait_ready

REQUESTS = 200  # counted per kind, after WARM_UP
WARM_UP = 60
READY_TIMEOUT = 600.0  # seconds: under valgrind the gateway starts some 50 times slower
TIMEOUT = 120.0  # seconds for one request under valgrind

KINDS = ("GraphQL { __typename }", "GraphQL lineage query", "baseline endpoint")


def _loads(ids: list[Identity]) -> dict[str, tuple[str, list[bytes]]]:
    return dict(
        zip(
            KINDS,
            (
                ("/graphql", [orjson.dumps({"query": "{ __typename }"})]),
                ("/graphql", lineage.graphql_bodies(ids)),
                ("/baseline/device", lineage.baseline_bodies(ids)),
            ),
            strict=True,
        )
    )


def count(url: str, ids: list[Identity]) -> dict[str, float]:
    """Instructions per request of each kind, in KINDS order."""
    with tempfile.TemporaryDirectory(prefix="fir-callgrind-serve-") as tmp:
        data_dir = Path(tmp)
        out = data_dir / "callgrind.out"
        port = free_port()
        env = server_env(data_dir, port, url, FIR_CACHE="0", FIR_BASELINE_ENDPOINT="1")
        argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
        with (data_dir / f"serve-{port}.log").open("wb") as log:
            proc = subprocess.Popen(
                [*argv, sys.executable, "-m", "gateway", "serve"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        server = Server(f"http://127.0.0.1:{port}", proc, data_dir, env)
        try:
            wait_ready(server, READY_TIMEOUT)
            return _counted(server, out, mint_read_token(server), ids)
        finally:
            stop(server)


def _counted(server: Server, out: Path, token: str, ids: list[Identity]) -> dict[str, float]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    pid = str(server.proc.pid)
    found: dict[str, float] = {}
    with httpx.Client(base_url=server.base, headers=headers, timeout=TIMEOUT) as client:
        for name, (path, bodies) in _loads(ids).items():
            for k in range(WARM_UP):
                _ask(client, path, bodies[k % len(bodies)])
            instructions.control("-i", "on", pid)
            instructions.control("-z", pid)
            for k in range(REQUESTS):
                _ask(client, path, bodies[(WARM_UP + k) % len(bodies)])
            part = len(found) + 1
            instructions.control("-d", f"kind{part}", pid)
            instructions.control("-i", "off", pid)
            found[name] = instructions.total(out, part) / REQUESTS
    return found


def _ask(client: httpx.Client, path: str, body: bytes) -> None:
    response = client.post(path, content=body)
    if response.status_code != 200 or b'"errors"' in response.content:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")


def lines(counted: dict[str, float], in_process: dict[str, float]) -> list[str]:
    """The paragraph for the layers section: per request through `fir serve`, and what HTTP adds to
    the in-process figure of the same work (tests/perf/instructions.py)."""
    if not counted:
        return []
    beside = {
        "GraphQL { __typename }": "schema: { __typename }",
        "GraphQL lineage query": "schema: lineage query",
        "baseline endpoint": "baseline statement and rows",
    }
    found = []
    for name in KINDS:
        if name not in counted:
            continue
        same = in_process.get(beside[name])
        adds = f"; adds {counted[name] - same:,.0f} to {beside[name]}" if same else ""
        found.append(f"- {name}: {counted[name]:,.0f}{adds}")
    return [
        "",
        "Instructions per HTTP request through `fir serve` (`tests/perf/server_instructions.py`): the"
        f" gateway process under callgrind, cache off, one client, {REQUESTS} requests of each kind after"
        " a warm-up; what each adds to its in-process layer is uvicorn, Starlette, the middleware,"
        " authentication and the response (the kernel's socket work is not counted).",
        "",
        *found,
    ]


def main() -> None:
    from tests.perf import databases

    if not instructions.available():
        raise SystemExit("valgrind (with callgrind_control) is not installed")
    with databases.postgres() as pg:
        url, _ = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, 1000))
        print("\n".join(lines(count(url, ids), {})))


if __name__ == "__main__":
    main()
