"""Instructions per call of each layer of a lineage request (tests/perf/layers.py), counted by callgrind.

CPU time on a shared machine moves with its neighbours; the number of instructions a call executes
does not (it is the same from run to run within a fraction of a percent), so a change's effect on
the gateway's own work shows here even when the timed figures drift. One child process runs under
`valgrind --tool=callgrind --instr-atstart=no`: for each layer it warms up, says so, and waits; the
parent switches instrumentation on and zeroes the counters (`callgrind_control`), lets it run the
layer's calls, waits for it to say they are done, then dumps, switches off and lets it go on. What is counted is this process's user-space
instructions: not the kernel's, not PostgreSQL's, and not cache misses (what a call costs in time
also depends on the memory it touches). Skipped, with a note, where valgrind is not installed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import uvloop

from loaders.db import create_pool
from loaders.demo import Identity
from tests.perf import layers

CALLS = 200  # counted calls per layer, after WARM_UP
WARM_UP = 30
TIMEOUT = 20 * 60  # seconds for the whole child: valgrind runs Python some 50 times slower
DUMP_WAIT = 30  # seconds for a dump to appear


def available() -> bool:
    return shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None


def count(url: str, ids: list[Identity]) -> dict[str, float]:
    """Instructions per call for each layer, in layers.LAYERS order."""
    with tempfile.TemporaryDirectory(prefix="fir-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        child = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "tests.perf.instructions",
                "--child",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(json.dumps({"url": url, "ids": ids}) + "\n")
            child.stdin.flush()
            return _counted(child, out)
        finally:
            child.kill()
            child.wait(30)


def _counted(child: subprocess.Popen[str], out: Path) -> dict[str, float]:
    found: dict[str, float] = {}
    pid = str(child.pid)
    for name, _ in layers.LAYERS:
        _expect(child.stdout, f"ready {name}")
        control("-i", "on", pid)
        control("-z", pid)
        _say(child, "go")
        _expect(child.stdout, f"done {name}")
        control("-d", f"layer{len(found) + 1}", pid)  # a plain hint: callgrind_control trips on "("
        control("-i", "off", pid)
        _say(child, "next")  # only now does the child go on (its next warm-up is not counted)
        found[name] = total(out, len(found) + 1) / CALLS
    return found


def control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=TIMEOUT)


def _say(child: subprocess.Popen[str], line: str) -> None:
    assert child.stdin is not None
    child.stdin.write(line + "\n")
    child.stdin.flush()


def _expect(stream: IO[str] | None, line: str) -> None:
    assert stream is not None
    got = stream.readline().strip()
    if got != line:
        raise RuntimeError(f"the callgrind child said {got!r}, not {line!r}")


def total(out: Path, part: int) -> int:
    """The instructions of one dump (callgrind writes dump n to <file>.<n>, `totals:` last, and may
    still be writing it when callgrind_control returns)."""
    dump = Path(f"{out}.{part}")
    deadline = time.monotonic() + DUMP_WAIT
    while time.monotonic() < deadline:
        if dump.exists():
            for text in dump.read_text().splitlines():
                if text.startswith("totals:"):
                    return int(text.split()[1])
        time.sleep(0.2)
    found = sorted(p.name for p in out.parent.iterdir())
    raise RuntimeError(f"callgrind wrote no totals to {dump} within {DUMP_WAIT} s (files: {found})")


def rows(counted: dict[str, float]) -> list[tuple[str, str]]:
    """(layer, instructions per call and what it adds to the layer it builds on)."""
    found = []
    for name, below in layers.LAYERS:
        if name not in counted:
            continue
        adds = f"; adds {counted[name] - counted[below]:,.0f} to {below}" if below in counted else ""
        found.append((name, f"{counted[name]:,.0f}{adds}"))
    return found


def lines(counted: dict[str, float]) -> list[str]:
    """The layers section's paragraph on instructions (tests/perf/layers.py)."""
    if not counted:
        return ["Instructions per call: not counted (valgrind is not installed on this machine)."]
    return [
        "Instructions per call, counted by callgrind (`tests/perf/instructions.py`): this process's"
        f" user-space instructions over {CALLS} calls of each layer after a warm-up, the same from run to"
        " run whatever the machine's load, so a change's effect on the gateway's own work shows here even"
        " when the timed figures drift; the kernel's, PostgreSQL's and cache misses are not counted.",
        "",
        *(f"- {name}: {value}" for name, value in rows(counted)),
    ]


async def _child(stdin: IO[str], stdout: IO[str]) -> None:
    given: dict[str, Any] = json.loads(stdin.readline())
    ids = [tuple(i) for i in given["ids"]]
    pool = await create_pool(given["url"], min_size=1, max_size=2)
    try:
        for name, layer in layers.layers(pool).items():
            # warm, then counted; each time the parent's word before going on
            for calls, said, answer in ((WARM_UP, "ready", "go"), (CALLS, "done", "next")):
                for k in range(calls):
                    await layer(ids[k % len(ids)])
                stdout.write(f"{said} {name}\n")
                stdout.flush()
                if stdin.readline().strip() != answer:
                    return
    finally:
        await pool.close()


def main() -> None:
    if "--child" in sys.argv:
        uvloop.run(_child(sys.stdin, sys.stdout))
        return
    from tests.perf import databases

    if not available():
        raise SystemExit("valgrind (with callgrind_control) is not installed")
    with databases.postgres() as pg:
        url, _ = asyncio.run(databases.demo_database(pg.url, 1))
        ids = asyncio.run(databases.identities(url, 1000))
        print("\n".join(lines(count(url, ids))))


if __name__ == "__main__":
    main()
