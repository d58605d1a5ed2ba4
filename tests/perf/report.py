"""The benchmark's output: the machine it ran on, the figures against their targets, BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    target: str = "-"
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "-"}[self.met]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10).stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def machine(postgres_version: str) -> list[tuple[str, str]]:
    return [
        ("CPU", cpu_model()),
        ("cores", f"{os.cpu_count()} logical"),
        ("RAM", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", sys.version.split()[0]),
        ("PostgreSQL", postgres_version),
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("revision", git_revision()),
    ]


def table(rows: list[Row]) -> str:
    lines = ["| figure | measured | target | verdict |", "|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.measured} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def markdown(
    rows: list[Row],
    facts: list[tuple[str, str]],
    details: list[str],
    notes: list[str],
    profile: list[str] | None = None,
) -> str:
    parts = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (`python -m tests.perf.run`); this file is its output, not hand-edited.",
        "",
        "## Machine",
        "",
        *(f"- {name}: {value}" for name, value in facts),
        "",
        "## Figures",
        "",
        table(rows),
        "",
        "## Details",
        "",
        *(f"- {d}" for d in details),
        "",
        "## Reading these figures",
        "",
        *(f"- {n}" for n in notes),
        "",
        *(["## Profile", "", PROFILE, "", "```", *profile, "```", ""] if profile else []),
        REPRODUCE,
    ]
    return "\n".join(parts)


def with_rows(document: str, prefix: str, new_rows: list[Row], new_details: list[str]) -> str:
    """`document` with one part's rows and details (those starting with `prefix`) replaced, or added at
    the end of the Figures table and of the Details list; every other line stays as it was."""
    lines = [line for line in document.splitlines() if not line.startswith((f"| {prefix}", f"- {prefix}"))]
    lines = _insert_after(lines, "## Figures", "|", table(new_rows).splitlines()[2:])
    lines = _insert_after(lines, "## Details", "- ", [f"- {d}" for d in new_details])
    return "\n".join(lines) + "\n"


def _insert_after(lines: list[str], heading: str, item: str, new: list[str]) -> list[str]:
    """`new` after the last `item` line of the list under `heading` (a new section at the end if none)."""
    if heading not in lines:
        return [*lines, "", heading, "", *new]
    at = lines.index(heading) + 1
    while at < len(lines) and not lines[at].startswith((item, "## ")):
        at += 1
    while at < len(lines) and lines[at].startswith(item):
        at += 1
    return lines[:at] + new + lines[at:]


FILES_BEGIN, FILES_END = "<!-- fleet files: begin -->", "<!-- fleet files: end -->"


def files_section(rows: list[Row], facts: list[tuple[str, str]], details: list[str]) -> str:
    """The fleet-file figures, replaceable on their own (`--only fleet-files`)."""
    return "\n".join(
        [
            FILES_BEGIN,
            "## Fleet files",
            "",
            "Measured by `python -m tests.perf.run --only fleet-files` (also part of `make bench`):"
            " generated csv files cycling over 2,000 distinct demo identities, each row its own reference,"
            " parquet report; one run each, wall time of the whole CLI process (start-up, upload and"
            " download included for --url).",
            "",
            *(f"- {name}: {value}" for name, value in facts if name in ("date", "revision")),
            "",
            table(rows),
            "",
            *(f"- {d}" for d in details),
            FILES_END,
        ]
    )


def with_files_section(document: str, section: str) -> str:
    """`document` with its fleet-file section replaced (or added before Reproduce)."""
    return with_section(document, section, FILES_BEGIN, FILES_END)


def with_section(document: str, section: str, begin: str, end: str) -> str:
    """`document` with the section between `begin` and `end` replaced (or added before Reproduce)."""
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        return head + section + rest.split(end, 1)[1]
    head, sep, tail = document.partition("## Reproduce")
    return head + section + "\n\n" + sep + tail


FLEET_FIGURES = ("| fleetStatus ", "| gateway peak RSS during the ")
FLEET_DETAILS = ("- fleetStatus ", "- gateway RSS at rest before the fleet runs")


def with_fleet_rows(document: str, rows: list[Row], details: list[str]) -> str:
    """`document` with its fleetStatus rows and details replaced where the old ones stood (`--only fleet`)."""
    table_lines = table(rows).splitlines()[2:]
    detail_lines = [f"- {d}" for d in details]
    out: list[str] = []
    for line in document.split("\n"):
        if line.startswith(FLEET_FIGURES):
            out += table_lines
            table_lines = []
        elif line.startswith(FLEET_DETAILS) and not line.startswith("- fleetStatus over"):
            out += detail_lines
            detail_lines = []
        else:
            out.append(line)
    return "\n".join(out)


PROFILE = """py-spy (`tests/perf/profile.py`) samples the cache-off server while 4 clients send lineage
requests, once with CPython's collector defaults (FIR_GC_TUNING=0) and once tuned; only samples that
hold the GIL count. On a machine whose cores are oversubscribed, a process that wakes PostgreSQL or the
load generator through a socket is often preempted inside that write, still holding the GIL: the self
time of asyncpg's `_do_execute` and uvicorn's `send` is largely time given to those processes, not
Python work; so is most of `_Slice.spent` (schema/slices.py), whose CPU clock read is a system call
(about 0.3 µs when measured alone). The Python work is graphql-core's per-field execution
(execute_fields, execute_field, complete_value and their strawberry wrappers) and the DataLoader
round: no single frame stands out. What used to surround it per request is now done once: the cost
analysis is remembered per document and variables shape, strawberry's extension hooks are planned
once per extension class (together, the operation's work outside graphql-core's execute went from
9.2% to 5.1% of the samples in one before/after pair at 4 clients), and a finished request leaves no
reference cycle for the collector (graphql-core's executor kept one, about 140 objects per lineage
request; schema/acyclic.py). The collector does not show as a frame: its cost is the GC CPU per
request in the figures. The last two profiles are the compiled executor's A/B
(`tests/perf/compiled.py`: FIR_COMPILED_EXECUTOR=0, then 1, each followed by the inclusive share of the
stages of a request), after the server CPU per request both measured in turns with the baseline."""

REPRODUCE = """## Reproduce

```sh
make bench                                        # full run, rewrites BENCHMARKS.md (about 5 minutes)
.venv/bin/python -m tests.perf.run --quick        # 5 s loads, no 1M fleet; prints, writes nothing
FIR_BENCH_DATABASE_URL=postgresql://... make bench  # an existing server instead of an embedded one
```

The run creates its own embedded PostgreSQL in a temporary directory (or databases
`fir_bench_scale_1` and `fir_bench_scale_10` on FIR_BENCH_DATABASE_URL), loads the demo data at scale
1 and 10, and starts real `fir serve` processes on loopback ports with development tokens
(FIR_DEV_AUTH=1), FIR_BASELINE_ENDPOINT=1 and FIR_CACHE=0 or 1. The load generator is autocannon
(tests/perf/loadgen.mjs, in tests/peers) in its own Node.js process; the fleet requests are sent by
the runner's own process with httpx. Every step has a time limit, and the whole run stops itself.
"""
