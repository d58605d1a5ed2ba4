"""The transparency log over real HTTP: checkpoints and proofs served, verified offline, tampering caught."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from typer.testing import CliRunner

from gateway.auth.dev_issuer import DevIssuer
from gateway.cli import app
from gateway.settings import load_settings
from loaders import tlog
from loaders.db import Db
from resolvers import transparency
from tests.builders import building, image_hash, listing_input, submission_input
from tests.e2e.server import running_server
from tests.verifier import standalone

STANDALONE = Path(__file__).parents[1] / "verifier" / "standalone.py"
PROOF = "proof { leafIndex treeSize leaf inclusionPath checkpoint }"
DEVICE = (
    '{ device(identity: {manufacturerId: "106C", modelId: "4331", hardwareVersion: "00AC",'
    ' firmwareVersion: "12700001"}) {'
    f" cplEntry {{ number imageHash status {PROOF} }} lineage {{ id version imageHash status {PROOF} }} }} }}"
)


@dataclasses.dataclass
class Log:
    client: httpx.Client
    url: str
    secas: str
    reader: str
    publisher: str  # fir:publish for 106C, without fir:read


@pytest.fixture
async def model(db_url: str) -> str:
    async with building(db_url) as b:
        await b.manufacturer("106C")
        await b.model("106C", "4331", "CHF")
    return db_url


@pytest.fixture
def log(model: str, tmp_path: Path) -> Iterator[Log]:
    with running_server(model, tmp_path, FIR_DEV_AUTH="1", FIR_LOG_CHECKPOINT_INTERVAL="0.2") as base:
        settings = dataclasses.replace(
            load_settings(None), data_dir=tmp_path, port=int(base.rsplit(":", 1)[1]), dev_auth=True
        )
        issuer = DevIssuer(settings)
        with httpx.Client(base_url=base, timeout=30) as client:
            yield Log(
                client,
                model,
                issuer.mint("fir:admin", None, "log-secas"),
                issuer.mint("fir:read", None, "log-reader"),
                issuer.mint("fir:publish", ["106C"], "log-publisher"),
            )


def graphql(log: Log, token: str | None, query: str, **variables: Any) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = log.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    ).json()
    assert "errors" not in answer, answer
    return answer


def publish(log: Log, number: int, version: str) -> None:
    entry = listing_input(number, version)
    graphql(log, log.secas, "mutation($i: CplEntryInput!) { listCplEntry(input: $i) { number } }", i=entry)
    release = submission_input(version)
    graphql(
        log,
        log.secas,
        "mutation($i: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $i) { id } }",
        i=release,
    )


def checkpoint_of_size(log: Log, size: int) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = log.client.get("/log/checkpoint")
        if response.status_code == 200 and response.text.split("\n")[1] == str(size):
            return response.text
        time.sleep(0.1)
    raise TimeoutError(f"no checkpoint of size {size}")


def fir(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_checkpoints_proofs_and_offline_verification(log: Log, tmp_path: Path) -> None:
    publish(log, 1, "12700001")
    first = checkpoint_of_size(log, 2)  # entry listed, release published
    assert first.startswith("fir-graph/log\n2\n") and "\n\n\u2014 fir-graph/log " in first
    key = log.client.get("/log/public-key").text
    (tmp_path / "key").write_text(key)
    (tmp_path / "first.note").write_text(first)
    # anonymous sees the CPL entry's proof; a reader sees the release's too
    anonymous = graphql(log, None, f"{{ cplEntry(number: 1) {{ number imageHash {PROOF} }} }}")
    assert anonymous["data"]["cplEntry"]["proof"]["treeSize"] == 2
    answer = graphql(log, log.reader, DEVICE)
    proof = answer["data"]["device"]["lineage"][0]["proof"]
    (tmp_path / "answer.json").write_text(json.dumps(answer))
    assert fir("verify", "answer", str(tmp_path / "answer.json"), "-k", str(tmp_path / "key"))[0] == 0

    # the independent verifier, from the leaf's fields and the proof alone
    (tmp_path / "leaf.json").write_text(proof["leaf"])
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "checkpoint").write_text(proof["checkpoint"])
    args = [str(tmp_path / n) for n in ("key", "checkpoint", "leaf.json", "proof.json")]
    assert (
        subprocess.run([sys.executable, str(STANDALONE), *args], capture_output=True, check=False).returncode
        == 0
    )
    served = log.client.get("/log/proof/inclusion", params={"index": proof["leafIndex"], "size": 2}).json()
    assert served["path"] == proof["inclusionPath"]

    # the log grows; the newer checkpoint is consistent with the stored one, the old one is a replay
    publish(log, 2, "12700002")
    second = checkpoint_of_size(log, 4)
    (tmp_path / "second.note").write_text(second)
    consistency = log.client.get("/log/proof/consistency", params={"from": 2, "to": 4}).json()
    (tmp_path / "consistency.json").write_text(json.dumps(consistency))
    stored, newer = str(tmp_path / "first.note"), str(tmp_path / "second.note")
    k = str(tmp_path / "key")
    assert (
        fir("verify", "checkpoint", stored, newer, "-k", k, "--proof", str(tmp_path / "consistency.json"))[0]
        == 0
    )
    code, output = fir("verify", "checkpoint", newer, stored, "-k", k)
    assert code == 1 and "replayed" in output
    graph = graphql(log, None, "{ logConsistency(from: 2, to: 4) { from to path } }")
    assert graph["data"]["logConsistency"]["path"] == consistency["path"]


async def test_an_image_hash_changed_in_postgresql_fails_verification_naming_the_row(
    log: Log, tmp_path: Path
) -> None:
    publish(log, 1, "12700001")
    checkpoint_of_size(log, 2)
    (tmp_path / "key").write_text(log.client.get("/log/public-key").text)
    conn = await asyncpg.connect(log.url)
    try:
        await conn.execute("update firmware_releases set image_hash = $1", image_hash("forged"))
    finally:
        await conn.close()
    (tmp_path / "answer.json").write_text(json.dumps(graphql(log, log.reader, DEVICE)))
    code, output = fir("verify", "answer", str(tmp_path / "answer.json"), "-k", str(tmp_path / "key"))
    assert code == 1
    assert "answer.data.device.lineage[0] (release" in output and "imageHash" in output
    assert "cplEntry" not in output  # the CPL entry was not touched


def test_the_log_routes_refuse_bad_input(log: Log) -> None:
    assert log.client.get("/log/checkpoint").status_code == 404  # nothing logged yet
    assert log.client.get("/log/proof/inclusion", params={"index": "x", "size": 1}).status_code == 400
    assert log.client.get("/log/proof/inclusion", params={"index": 0, "size": 1}).status_code == 404
    assert log.client.get("/log/proof/consistency", params={"from": 1, "to": 9}).status_code == 404


def exported_and_verified(log: Log, path: Path, key: Path) -> tuple[int, str]:
    env = {"DATABASE_URL": log.url, "FIR_DATA_DIR": str(path.parent)}
    exported = CliRunner().invoke(app, ["export", str(path)], env=env)
    assert exported.exit_code == 0, exported.output
    return fir("verify", "export", str(path), "-k", str(key))


def sql(log: Log, statement: str, *args: object) -> None:
    """A statement by an intruder with the database (the test is sync: the CLI runs its own loop)."""

    async def run() -> None:
        conn = await asyncpg.connect(log.url)
        try:
            await conn.execute(statement, *args)
        finally:
            await conn.close()

    asyncio.run(run())


def test_an_export_verifies_every_fact_of_every_row_and_names_each_tampered_one(
    log: Log, tmp_path: Path
) -> None:
    publish(log, 1, "12700001")
    graphql(
        log,
        log.secas,
        "mutation($i: CplEntryInput!) { listCplEntry(input: $i) { number } }",
        i=listing_input(2, "12700002"),
    )
    upgrade = {**submission_input("12700002"), "upgradableFrom": ["12700001"]}
    submit = "mutation($i: SubmitFirmwareReleaseInput!) { submitFirmwareRelease(input: $i) { id } }"
    graphql(log, log.secas, submit, i=upgrade)
    backfilled = CliRunner().invoke(app, ["log", "backfill"], env={"DATABASE_URL": log.url})
    assert "appended 1 leaves" in backfilled.output  # the fixture's contacts, written by SQL
    checkpoint_of_size(log, 5)
    key = tmp_path / "key"
    key.write_text(log.client.get("/log/public-key").text)
    for name in ("honest.csv", "honest.xlsx"):
        assert exported_and_verified(log, tmp_path / name, key) == (0, "OK: 2 rows verified\n")

    # the release's image hash: the row no longer shows the release, the log says it is published
    sql(
        log,
        "update firmware_releases set image_hash = $1 where firmware_version = '12700002'",
        image_hash("x"),
    )
    code, output = exported_and_verified(log, tmp_path / "release-hash.csv", key)
    assert (
        code == 1 and "row 3 (CPL entry 2): the signed log says release" in output and "row 2" not in output
    )
    # the entry's image hash too, so the row shows the release with the forged hash: both facts fail
    sql(log, "update cpl_entries set image_hash = $1 where number = 2", image_hash("x"))
    code, output = exported_and_verified(log, tmp_path / "both-hashes.xlsx", key)
    assert code == 1 and "row 2" not in output
    assert f"row 3 (CPL entry 2): imageHash is '{image_hash('x')}'" in output
    assert f"row 3 (CPL entry 2): release 2: imageHash is '{image_hash('x')}'" in output
    sql(log, "update cpl_entries set image_hash = $1 where number = 2", image_hash("12700002"))
    sql(
        log,
        "update firmware_releases set image_hash = $1 where firmware_version = '12700002'",
        image_hash("12700002"),
    )
    assert exported_and_verified(log, tmp_path / "restored.csv", key)[0] == 0
    # the release's status: withdrawn in the database, never in the log
    withdrawn = "update firmware_releases set status = 'WITHDRAWN', withdrawn_at = now() where id = 2"
    sql(log, withdrawn)
    code, output = exported_and_verified(log, tmp_path / "status.csv", key)
    assert code == 1 and "row 3 (CPL entry 2): the signed log says release 2 is published" in output
    sql(log, "update firmware_releases set status = 'PUBLISHED', withdrawn_at = null where id = 2")

    # the upgrade path, and the firmware contact shown in every row of the manufacturer
    sql(log, "delete from release_upgradable_from")
    sql(log, "update contacts set email = 'intruder@example.com'")
    code, output = exported_and_verified(log, tmp_path / "paths-contacts.csv", key)
    assert "row 3 (CPL entry 2): release 2: upgradable from [] but the signed log says ['12700001']" in output
    assert output.count("firmware contact is 'Firmware Desk <intruder@example.com>") == 2


def append_synthetic_leaves(url: str, count: int) -> None:
    """Leaves written as the log's consumer writes them, without a mutation each (the log grows past a tile)."""

    async def run() -> None:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        assert pool is not None
        try:
            async with Db(pool).transaction() as tx:
                leaves = [tlog.NewLeaf(b'{"n":%d}' % i, "Test", str(i)) for i in range(count)]
                await transparency.append_leaves(tx, leaves)
        finally:
            await pool.close()

    asyncio.run(run())


def test_tiles_serve_the_signed_tree_to_the_independent_verifier(log: Log) -> None:
    append_synthetic_leaves(log.url, 600)  # level 0: two full tiles and 88; level 1: two hashes
    note = checkpoint_of_size(log, 600)
    _, size, root = standalone.open_note(note, log.client.get("/log/public-key").text)

    reader = {"authorization": f"Bearer {log.reader}"}

    def get(path: str) -> bytes:
        """Hash tiles to anyone, for any cache; entry bundles (the facts) to fir:read, privately."""
        entries = path.startswith("tile/entries/")
        response = log.client.get(f"/log/{path}", headers=reader if entries else {})
        assert response.status_code == 200, (path, response.text)
        shared = "private" if entries else "public"
        assert response.headers["cache-control"] == f"{shared}, max-age=31536000, immutable"
        return response.content

    assert standalone.tiles_ok(get, size, root)
    assert len(get("tile/0/002.p/88")) == 88 * 32 and len(get("tile/0/002.p/5")) == 5 * 32
    assert not standalone.tiles_ok(get, size, b"\0" * 32)
    for beyond in ("tile/0/002", "tile/0/003.p/1", "tile/entries/002.p/89", "tile/1/000", "tile/2/000.p/1"):
        assert log.client.get(f"/log/{beyond}", headers=reader).status_code == 404, beyond
    for bad in ("tile/0/2", "tile/0/x000/002", "tile/6/000", "tile/0/000.p/256", "tile/0/000.p/0", "tile/x"):
        assert log.client.get(f"/log/{bad}").status_code == 400, bad


def test_entry_bundles_need_fir_read(log: Log) -> None:
    """An entry bundle holds the logged facts (every manufacturer's contacts, its releases), which
    GraphQL shows only to fir:read: no token is 401, a token without fir:read 403, before any lookup."""
    graphql(
        log,
        log.secas,
        'mutation { setContacts(manufacturerId: "106C", contacts: [{role: SECURITY, name: "Alice",'
        ' email: "alice@private.example", phone: "+44 7700 900123"}]) { manufacturerId } }',
    )
    checkpoint_of_size(log, 1)
    anonymous = log.client.get("/log/tile/entries/000.p/1")
    assert anonymous.status_code == 401 and "alice" not in anonymous.text
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    publisher = log.client.get(
        "/log/tile/entries/000.p/1", headers={"authorization": f"Bearer {log.publisher}"}
    )
    assert publisher.status_code == 403 and publisher.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert log.client.get("/log/tile/0/000.p/1").status_code == 200  # the hashes stay public
    read = log.client.get("/log/tile/entries/000.p/1", headers={"authorization": f"Bearer {log.reader}"})
    assert read.status_code == 200 and b"alice@private.example" in read.content
