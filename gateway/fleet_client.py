"""The CLI as a client of a gateway's /fleet-checks: the file streamed up, progress polled, the report streamed down."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx

from spreadsheets.atomic import replaced_atomically
from spreadsheets.fleet_files import file_kind
from spreadsheets.fleet_reports import report_kind, write_tables

UPLOAD_CHUNK = 1024 * 1024
POLL_SECONDS = 0.5
MAX_WAIT_SECONDS = 2 * 3600  # a client never polls for ever


class FleetRemoteError(RuntimeError):
    """The gateway refused the file or the check failed: its message, never a traceback."""


class FleetCheckClient:
    def __init__(self, base_url: str, token: str, timeout: float = 300) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"authorization": f"Bearer {token}"}
        self.timeout = timeout

    def run(self, source: Path, target: Path, progress: Callable[[str, int | None], Any]) -> dict[str, Any]:
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=self.timeout) as client:
            progress("uploading", None)
            check_id = self._submit(client, source, report_kind(target))
            state = self._wait(client, check_id, progress)
            self._download(client, state["report"], target)
        if report_kind(target) != "xlsx":
            tables = {"summary": [{"measure": k, "devices": v} for k, v in state["summary"].items()]}
            tables |= {name: state.get(name) or [] for name in ("manufacturers", "campaign")}
            with duckdb.connect() as conn:
                write_tables(conn, tables, target)
        return {"summary": state["summary"], "problems": state.get("problems") or []}

    def _submit(self, client: httpx.Client, source: Path, report: str) -> str:
        response = client.post(
            "/fleet-checks",
            params={"format": file_kind(source), "report": report},
            content=_chunks(source),
            headers={
                "content-length": str(source.stat().st_size),
                "content-type": "application/octet-stream",
            },
        )
        body = _answer(response, 202)
        return str(body["id"])

    def _wait(
        self, client: httpx.Client, check_id: str, progress: Callable[[str, int | None], Any]
    ) -> dict[str, Any]:
        deadline = time.monotonic() + MAX_WAIT_SECONDS
        while time.monotonic() < deadline:
            state = _answer(client.get(f"/fleet-checks/{check_id}"), 200)
            if state["stage"] == "failed":
                raise FleetRemoteError(f"the fleet check failed: {state.get('error')}")
            if state["stage"] == "done":
                return state
            progress(state["stage"], state.get("rows"))
            time.sleep(POLL_SECONDS)
        raise FleetRemoteError(f"the fleet check {check_id} did not finish within {MAX_WAIT_SECONDS} s")

    def _download(self, client: httpx.Client, path: str, target: Path) -> None:
        with (
            replaced_atomically(target) as partial,
            client.stream("GET", path) as response,
            partial.open("wb") as handle,
        ):
            if response.status_code != 200:
                response.read()
                _answer(response, 200)
            for chunk in response.iter_bytes():
                handle.write(chunk)


def _chunks(source: Path) -> Iterator[bytes]:
    with source.open("rb") as handle:
        yield from iter(lambda: handle.read(UPLOAD_CHUNK), b"")


def _answer(response: httpx.Response, expected: int) -> dict[str, Any]:
    if response.status_code == expected:
        found: dict[str, Any] = response.json()
        return found
    try:
        errors = response.json().get("errors") or [{}]
        message = f"{errors[0].get('message')} ({errors[0].get('extensions', {}).get('code')})"
    except ValueError:
        message = response.text[:200]
    raise FleetRemoteError(f"{response.request.url.path}: HTTP {response.status_code}: {message}")
