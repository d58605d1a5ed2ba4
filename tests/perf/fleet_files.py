"""The fleet-file workload: `fir fleet-check` on generated meter files, locally and through a gateway."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from loaders.demo import Identity
from tests.perf.servers import RssSampler, Server, server_env

RUN_TIMEOUT = 600  # seconds for one check: it stops by itself


@dataclass(frozen=True)
class FileRun:
    path: str  # "local" (the CLI on the database) or "http" (the CLI through POST /fleet-checks)
    rows: int
    seconds: float
    cli_rss: int  # peak of the CLI process and its children
    server_rss: int  # peak of the gateway while it ran the check (0 for local)
    cli_cpu: float  # user + system seconds of the CLI process: what the wall time is, less the machine's load
    file_mb: float
    report_mb: float


def generate(target: Path, identities: list[Identity], rows: int) -> Path:
    """`rows` meters cycling over the identities, each with its own MPAN-like reference (DuckDB, no Python loop)."""
    conn = duckdb.connect()
    try:
        conn.execute("create table ids (k integer, m varchar, mo varchar, hw varchar, fw varchar)")
        conn.executemany(
            "insert into ids values (?, ?, ?, ?, ?)", [(n, *i) for n, i in enumerate(identities)]
        )
        conn.execute(
            "copy (select 'MPAN-' || lpad(r.i::varchar, 10, '0') as mpxn, ids.m as manufacturer_id,"
            " ids.mo as model_id, ids.hw as hardware_version, ids.fw as firmware_version"
            f" from range({int(rows)}) r(i) join ids on ids.k = r.i % {len(identities)} order by r.i)"
            f" to '{target}' (header true)"
        )
    finally:
        conn.close()
    return target


def run_cli(
    source: Path, report: Path, env: dict[str, str], *args: str, server: Server | None = None
) -> FileRun:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "fleet-check", str(source), "--out", str(report), "--json", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    sampler = RssSampler(proc.pid)
    gateway = RssSampler(server.proc.pid) if server is not None else None
    with sampler, gateway if gateway is not None else contextlib.nullcontext():
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI was reaped by communicate()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"fir fleet-check failed ({proc.returncode}): {err.decode()[-2000:]}")
    summary = orjson.loads(out.decode().splitlines()[-1])
    return FileRun(
        "http" if server is not None else "local",
        int(summary["total"]),
        elapsed,
        sampler.peak,
        gateway.peak if gateway is not None else 0,
        cpu,
        source.stat().st_size / 1e6,
        report.stat().st_size / 1e6,
    )


def local_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIR_") and k != "DATABASE_URL"}
    return env | {"DATABASE_URL": database_url, "FIR_DATA_DIR": str(data_dir), "FIR_LOG_LEVEL": "WARNING"}


def remote_env(server: Server, token: str) -> dict[str, str]:
    env = server_env(server.data_dir, int(server.port), None)
    env.pop("FIR_DEV_AUTH", None)
    return env | {"FIR_URL": server.base, "FIR_TOKEN": token}
