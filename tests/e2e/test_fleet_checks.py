"""Fleet checks end to end: `fir fleet-check` (local and --url) and /fleet-checks on a real `fir serve`."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import openpyxl
import orjson
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.e2e.server import running_server
from tests.e2e.test_http import seeded  # noqa: F401  (fixture)
from tests.spreadsheets.test_fleet_check import as_format, write_csv

ROWS = [
    ["m1", "106c", "4331", "00ac", "00000001"],  # one step behind
    ["m2", "106C", "4331", "00AC", "00000002"],  # latest
    ["m3", "106C", "4331", "00AC", "zz"],  # malformed: row 4
    ["m4", "FFFF", "0001", "0000", "00000001"],  # not on the CPL
]
SUMMARY = {
    "total": 4,
    "distinct": 3,
    "upToDate": 1,
    "outdated": 1,
    "notOnCpl": 1,
    "noUpgradePath": 0,
    "invalid": 1,
}
MAX_BYTES = 100_000
GRAPHQL_BODY_CAP = 1024
# the same rows forty times over: 160 devices, 3 distinct identities
SUMMARY_40 = {
    "total": 160,
    "distinct": 3,
    "upToDate": 40,
    "outdated": 40,
    "notOnCpl": 40,
    "noUpgradePath": 0,
    "invalid": 40,
}


@dataclasses.dataclass
class Gateway:
    base: str
    database_url: str
    tokens: dict[str, str]


@pytest.fixture
def gateway(seeded: str, tmp_path: Path) -> Iterator[Gateway]:  # noqa: F811
    with running_server(
        seeded,
        tmp_path,
        FIR_DEV_AUTH="1",
        FIR_FLEET_CHECK_MAX_BYTES=str(MAX_BYTES),
        # /graphql's body cap, far below a fleet file: it must not apply to /fleet-checks
        FIR_MAX_BODY_BYTES_AUTHENTICATED=str(GRAPHQL_BODY_CAP),
    ) as base:
        settings = dataclasses.replace(
            load_settings(None), data_dir=tmp_path, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        issuer = DevIssuer(settings)
        tokens = {
            "reader": issuer.mint("fir:read", None, "fleet-reader"),
            "other": issuer.mint("fir:read", None, "fleet-other-supplier"),
            "admin": issuer.mint("fir:admin", None, "fleet-secas"),
            "nothing": issuer.mint("openid", None, "fleet-no-scope"),
            "maker": issuer.mint("fir:publish", ["106C"], "fleet-maker"),
        }
        yield Gateway(base, seeded, tokens)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def fir(gateway: Gateway, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": gateway.database_url, "FIR_DATA_DIR": str(cwd / "cli-data")}
    env.pop("FIR_URL", None)
    env.pop("FIR_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "gateway", "fleet-check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def devices(report: Path) -> list[tuple[Any, ...]]:
    if report.suffix == ".xlsx":
        book = openpyxl.load_workbook(report, read_only=True)
        try:  # a read-only workbook keeps its file open until closed
            rows = list(book["Devices"].iter_rows(values_only=True))
        finally:
            book.close()
        header = list(rows[0])
        pick = [header.index(c) for c in ("row", "ref", "status")]
        return [tuple(r[i] for i in pick) for r in rows[1:]]
    return duckdb.sql(f"select row, ref, status from '{report}' order by row").fetchall()


EXPECTED_DEVICES = [
    (2, "m1", "outdated"),
    (3, "m2", "up_to_date"),
    (4, "m3", "invalid"),
    (5, "m4", "unknown"),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("kind", "out"), [("csv", "xlsx"), ("parquet", "csv"), ("xlsx", "parquet")])
def test_cli_local_and_remote_give_the_same_report(
    gateway: Gateway, tmp_path: Path, kind: str, out: str
) -> None:
    source = as_format(write_csv(tmp_path / "meters.csv", ROWS), kind)
    local = fir(gateway, tmp_path, str(source), "--out", f"local.{out}", "--json")
    assert local.returncode == 0, local.stderr
    assert orjson.loads(local.stdout.splitlines()[-1]) == SUMMARY
    assert "firmwareVersion must be 8 hexadecimal digits" in local.stderr  # row 4, printed
    remote = fir(
        gateway,
        tmp_path,
        str(source),
        "--out",
        f"remote.{out}",
        "--json",
        "--url",
        gateway.base,
        "--token",
        gateway.tokens["reader"],
    )
    assert remote.returncode == 0, remote.stderr
    assert orjson.loads(remote.stdout.splitlines()[-1]) == SUMMARY
    assert devices(tmp_path / f"local.{out}") == devices(tmp_path / f"remote.{out}") == EXPECTED_DEVICES
    if out != "xlsx":  # csv and parquet reports carry their small tables beside them, both ways
        for name in ("summary", "manufacturers", "campaign"):
            assert (tmp_path / f"local.{name}.{out}").exists() and (
                tmp_path / f"remote.{name}.{out}"
            ).exists()
        campaign = duckdb.sql(
            f"select firmware_version, devices from '{tmp_path / f'remote.campaign.{out}'}'"
        )
        assert campaign.fetchall() == [("00000002", 1)]


def test_cli_remote_without_a_good_token_fails_cleanly(gateway: Gateway, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "meters.csv", ROWS)
    refused = fir(gateway, tmp_path, str(source), "--out", "r.csv", "--url", gateway.base, "--token", "nope")
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr and "Traceback" not in refused.stderr


def wait_done(client: httpx.Client, check_id: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"/fleet-checks/{check_id}", headers=bearer(token)).json()
        if state["stage"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise TimeoutError(check_id)


@pytest.mark.timeout(300)
def test_endpoint_jobs_are_the_callers_own(gateway: Gateway, tmp_path: Path) -> None:
    body = as_format(write_csv(tmp_path / "meters.csv", ROWS * 40), "parquet").read_bytes()
    assert GRAPHQL_BODY_CAP < len(body) < MAX_BYTES  # over /graphql's cap, under this endpoint's
    with httpx.Client(base_url=gateway.base, timeout=30) as client:
        posted = client.post(
            "/fleet-checks",
            params={"format": "parquet", "report": "xlsx"},
            content=body,
            headers=bearer(gateway.tokens["reader"]),
        )
        assert posted.status_code == 202, posted.text
        check_id = posted.json()["id"]
        assert posted.headers["location"] == f"/fleet-checks/{check_id}"
        state = wait_done(client, check_id, gateway.tokens["reader"])
        assert state["stage"] == "done" and state["summary"] == SUMMARY_40 and state["rows"] == 160
        assert state["problems"][0]["row"] == 4 and state["manufacturers"][0]["manufacturer_id"] == "106C"
        report = client.get(state["report"], headers=bearer(gateway.tokens["reader"]))
        assert report.status_code == 200 and report.headers["content-type"].startswith(
            "application/vnd.openxml"
        )
        book = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)
        assert book.sheetnames == ["Summary", "Manufacturers", "Campaign", "Devices"]
        for path in (f"/fleet-checks/{check_id}", state["report"]):
            assert client.get(path, headers=bearer(gateway.tokens["other"])).status_code == 404
            assert client.get(path, headers=bearer(gateway.tokens["admin"])).status_code == 200
            assert client.get(path).status_code == 401
            assert client.get(path, headers=bearer(gateway.tokens["nothing"])).status_code == 403
        assert (
            client.get("/fleet-checks/not-a-uuid", headers=bearer(gateway.tokens["reader"])).status_code
            == 404
        )


def test_endpoint_refuses_what_it_must(gateway: Gateway, tmp_path: Path) -> None:
    with httpx.Client(base_url=gateway.base, timeout=30) as client:
        anonymous = client.post("/fleet-checks", content=b"ref\n")
        assert (
            anonymous.status_code == 401
            and anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        )
        no_scope = client.post("/fleet-checks", content=b"ref\n", headers=bearer(gateway.tokens["nothing"]))
        assert no_scope.status_code == 403
        maker = client.post("/fleet-checks", content=b"ref\n", headers=bearer(gateway.tokens["maker"]))
        assert maker.status_code == 403  # fir:publish alone sees its own records, not a whole fleet's
        reader = bearer(gateway.tokens["reader"])
        bad_kind = client.post("/fleet-checks", params={"format": "ods"}, content=b"x", headers=reader)
        assert (
            bad_kind.status_code == 400
            and bad_kind.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        )
        big = client.post("/fleet-checks", content=b"x" * (MAX_BYTES + 1), headers=reader)
        assert big.status_code == 413 and big.json()["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "body",
            "limit": MAX_BYTES,
        }
        streamed = client.post(  # no content-length: the bound holds while the body streams in
            "/fleet-checks", content=iter([b"x" * 60_000, b"x" * 60_000]), headers=reader
        )
        assert streamed.status_code == 413
        no_column = client.post("/fleet-checks", content=b"ref,manufacturer_id\n1,2\n", headers=reader)
        state = wait_done(client, no_column.json()["id"], gateway.tokens["reader"])
        assert state["stage"] == "failed" and "no column for model_id" in state["error"]
        # a quote left open is the file's fault, said as such (it was DuckDB's error: "internal error")
        header = b"ref,manufacturer_id,model_id,hardware_version,firmware_version\n"
        open_quote = client.post("/fleet-checks", content=header + b'"m1,106C,4331,00AC,1\n', headers=reader)
        state = wait_done(client, open_quote.json()["id"], gateway.tokens["reader"])
        assert state["stage"] == "failed" and state["error"].startswith("not a readable csv file: ")
        not_ready = client.get(f"/fleet-checks/{no_column.json()['id']}/report", headers=reader)
        assert (
            not_ready.status_code == 409 and not_ready.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
        )


def test_cli_refuses_to_write_the_report_over_its_fleet_file(gateway: Gateway, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "meters.csv", ROWS)
    before = source.read_bytes()
    done = fir(gateway, tmp_path, str(source), "--out", "./meters.csv")
    assert done.returncode == 2 and "is the fleet file itself" in done.stdout + done.stderr
    assert source.read_bytes() == before
