"""GET /exports/fir.csv and .xlsx over real HTTP: fir:read only, streamed, stamped with the data version."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import openpyxl
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from resolvers.fir_export import HEADER
from tests.e2e.server import running_server
from tests.e2e.test_http import seeded  # noqa: F401  (fixture)


@dataclasses.dataclass
class Exports:
    client: httpx.Client
    url: str
    tokens: dict[str, str]


@pytest.fixture
def exports(seeded: str, tmp_path: Path) -> Iterator[Exports]:  # noqa: F811
    with running_server(seeded, tmp_path, FIR_DEV_AUTH="1") as base:
        settings = dataclasses.replace(
            load_settings(None), data_dir=tmp_path, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        issuer = DevIssuer(settings)
        tokens = {
            "reader": issuer.mint("fir:read", None, "exports-reader"),
            "maker": issuer.mint("fir:publish", ["106C"], "exports-maker"),
            "secas": issuer.mint("fir:admin", None, "exports-secas"),
            "nothing": issuer.mint("openid", None, "exports-no-scope"),
        }
        with httpx.Client(base_url=base, timeout=30) as client:
            yield Exports(client, seeded, tokens)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def data_version(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("select version from data_version"))
    finally:
        await conn.close()


async def test_csv_download_is_stamped_with_the_data_version(exports: Exports) -> None:
    version = await data_version(exports.url)
    with exports.client.stream(
        "GET", "/exports/fir.csv", headers=bearer(exports.tokens["reader"])
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["x-fir-data-version"] == str(version)
        assert f"fir-{version}.csv" in response.headers["content-disposition"]
        assert "content-length" not in response.headers  # streamed, not buffered
        text = response.read().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == HEADER and len(rows) == 2
    stamp = HEADER.index("FIR.data_version")
    assert {row[stamp] for row in rows} == {str(version)}
    assert [row[1] for row in rows] == sorted((row[1] for row in rows), key=int)


async def test_xlsx_download_follows_writes(exports: Exports) -> None:
    first = exports.client.get("/exports/fir.xlsx", headers=bearer(exports.tokens["secas"]))
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/vnd.openxml")
    conn = await asyncpg.connect(exports.url)
    try:
        await conn.execute("update cpl_entries set status = 'REMOVED', removed_on = current_date")
    finally:
        await conn.close()
    second = exports.client.get("/exports/fir.xlsx", headers=bearer(exports.tokens["secas"]))
    assert int(second.headers["x-fir-data-version"]) > int(first.headers["x-fir-data-version"])
    sheet = openpyxl.load_workbook(io.BytesIO(second.content), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert tuple(header) == HEADER
    status, stamp = HEADER.index("Entry.status"), HEADER.index("FIR.data_version")
    assert {(row[status], row[stamp]) for row in rows} == {
        ("Removed", int(second.headers["x-fir-data-version"]))
    }


@pytest.mark.parametrize("path", ["/exports/fir.csv", "/exports/fir.xlsx"])
def test_only_fir_read_callers_download(exports: Exports, path: str) -> None:
    anonymous = exports.client.get(path)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad = exports.client.get(path, headers=bearer("not-a-token"))
    assert bad.status_code == 401 and "invalid_token" in bad.headers["www-authenticate"]
    no_scope = exports.client.get(path, headers=bearer(exports.tokens["nothing"]))
    assert no_scope.status_code == 403 and no_scope.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # fir:publish alone sees its own manufacturers' records only, never the whole FIR
    assert exports.client.get(path, headers=bearer(exports.tokens["maker"])).status_code == 403
    assert exports.client.get("/exports/fir.ods", headers=bearer(exports.tokens["reader"])).status_code == 404
