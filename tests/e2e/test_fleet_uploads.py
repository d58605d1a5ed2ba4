"""A fleet file's upload keeps its own time on a real `fir serve`: no whole-body deadline (a big file
on a slow link takes minutes), but a stall or a slow drip is cut off, and nothing it sent is kept."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.auth.dev_issuer import DevIssuer
from gateway.settings import load_settings
from tests.e2e.server import running_server
from tests.e2e.test_fleet_checks import ROWS, SUMMARY, bearer, wait_done
from tests.e2e.test_http import seeded  # noqa: F401  (fixture)
from tests.spreadsheets.test_fleet_check import write_csv

BODY_TIMEOUT = 1.0  # FIR_BODY_TIMEOUT: the longest stall, and when the minimum rate starts to count
REQUEST_TIMEOUT = 1.5  # FIR_REQUEST_TIMEOUT: an upload outlasts it, and must not be cut by it
MIN_RATE = 2_000  # FIR_UPLOAD_MIN_RATE, bytes a second


@dataclasses.dataclass
class Uploads:
    base: str
    spool: Path
    token: str


@pytest.fixture
def uploads(seeded: str, tmp_path: Path) -> Iterator[Uploads]:  # noqa: F811
    env = {
        "FIR_DEV_AUTH": "1",
        "FIR_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "FIR_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
        "FIR_UPLOAD_MIN_RATE": str(MIN_RATE),
    }
    with running_server(seeded, tmp_path, **env) as base:
        port = int(base.rsplit(":", 1)[1])
        settings = dataclasses.replace(load_settings(None), data_dir=tmp_path, port=port, dev_auth=True)
        token = DevIssuer(settings).mint("fir:read", None, "upload-reader")
        yield Uploads(base, tmp_path / "fleet-checks", token)


def padded_fleet(tmp_path: Path, size: int) -> bytes:
    """The four test rows, then blank lines up to `size` bytes (a csv reader skips them)."""
    body = write_csv(tmp_path / "meters.csv", ROWS).read_bytes()
    return body + b"\n" * (size - len(body))


def send_slowly(uploads: Uploads, body: bytes, pieces: list[tuple[int, float]]) -> tuple[bytes, float]:
    """Headers, then each (bytes, pause before it) piece of `body` on a raw socket; the answer and when."""
    host, port = uploads.base.removeprefix("http://").rsplit(":", 1)
    head = (
        f"POST /fleet-checks?report=csv HTTP/1.1\r\nhost: fir\r\nauthorization: Bearer {uploads.token}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        started = time.perf_counter()
        sock.sendall(head)
        sent = 0
        for size, pause in pieces:
            time.sleep(pause)
            try:
                sock.sendall(body[sent : sent + size])
            except OSError:  # the server answered and closed while we were still sending
                break
            sent += size
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and answer.endswith(b"}"):
                break
        return answer, time.perf_counter() - started


def leftovers(uploads: Uploads) -> list[Path]:
    """Work directories still in the spool, waiting briefly for a handler that is cleaning up."""
    deadline = time.monotonic() + 5
    while True:
        found = list(uploads.spool.glob("check-*")) if uploads.spool.exists() else []
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def refusal(answer: bytes) -> tuple[str, str, str]:
    status, _, body = answer.partition(b"\r\n\r\n")
    error = orjson.loads(body)["errors"][0]
    return status.split(b"\r\n")[0].decode(), error["extensions"]["code"], error["message"]


@pytest.mark.timeout(120)
def test_an_upload_may_take_longer_than_the_body_and_request_timeouts(
    uploads: Uploads, tmp_path: Path
) -> None:
    """Three seconds of steady sending at 8 KB/s: past FIR_BODY_TIMEOUT and FIR_REQUEST_TIMEOUT both,
    above FIR_UPLOAD_MIN_RATE all along: accepted, and checked as any other upload."""
    body = padded_fleet(tmp_path, 24_000)

    def steadily() -> Iterator[bytes]:
        for start in range(0, len(body), 2_000):
            time.sleep(0.25)
            yield body[start : start + 2_000]

    with httpx.Client(base_url=uploads.base, timeout=30) as client:
        started = time.perf_counter()
        posted = client.post("/fleet-checks", content=steadily(), headers=bearer(uploads.token))
        took = time.perf_counter() - started
        assert posted.status_code == 202, posted.text
        assert took > BODY_TIMEOUT + REQUEST_TIMEOUT
        state = wait_done(client, posted.json()["id"], uploads.token)
    assert state["stage"] == "done" and state["summary"] == SUMMARY
    assert leftovers(uploads) == []


@pytest.mark.timeout(120)
def test_a_stalled_upload_is_cut_off_and_nothing_kept(uploads: Uploads, tmp_path: Path) -> None:
    body = padded_fleet(tmp_path, 20_000)
    answer, took = send_slowly(uploads, body, [(10_000, 0)])  # half the body, then nothing
    status, code, message = refusal(answer)
    assert status == "HTTP/1.1 408 Request Timeout" and code == "REQUEST_TIMEOUT"
    assert message == f"the upload stalled: nothing arrived for {BODY_TIMEOUT:g} s"
    assert BODY_TIMEOUT - 0.2 < took < BODY_TIMEOUT + 1.5
    assert leftovers(uploads) == []


@pytest.mark.timeout(120)
def test_a_slow_drip_is_cut_off_below_the_minimum_rate(uploads: Uploads, tmp_path: Path) -> None:
    """100 bytes every 0.3 s never stalls for FIR_BODY_TIMEOUT, but averages 333 bytes a second."""
    body = padded_fleet(tmp_path, 20_000)
    answer, took = send_slowly(uploads, body, [(100, 0.3)] * 200)
    status, code, message = refusal(answer)
    assert status == "HTTP/1.1 408 Request Timeout" and code == "REQUEST_TIMEOUT"
    assert message.startswith("the upload is too slow: ") and "at least 2,000 expected" in message
    assert took < BODY_TIMEOUT + 2
    assert leftovers(uploads) == []


@pytest.mark.timeout(120)
def test_a_client_gone_mid_upload_leaves_nothing(uploads: Uploads, tmp_path: Path) -> None:
    body = padded_fleet(tmp_path, 20_000)
    host, port = uploads.base.removeprefix("http://").rsplit(":", 1)
    head = (
        f"POST /fleet-checks HTTP/1.1\r\nhost: fir\r\nauthorization: Bearer {uploads.token}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + body[:10_000])
        deadline = time.monotonic() + 5  # the handler has made its work directory and spooled some
        while not (uploads.spool.exists() and list(uploads.spool.glob("check-*/meters.csv"))):
            assert time.monotonic() < deadline, "the upload never reached the spool"
            time.sleep(0.05)
    assert leftovers(uploads) == []
