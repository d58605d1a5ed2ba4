"""SQL for the data version that every write bumps and announces on the 'fir_data_version' channel."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg

CHANNEL = "fir_data_version"
LISTENER_NAME = "fir-notifier"  # the application_name of the one LISTEN connection per process


class _Executor(Protocol):
    async def fetchval(self, query: str, *args: Any) -> Any: ...


async def current_version(executor: _Executor) -> int:
    """The committed version: on a pool for the per-request check, on the listener's own connection."""
    version = await executor.fetchval("select version from data_version")
    return int(version)


async def connect_listener(url: str) -> asyncpg.Connection:
    """A dedicated connection, never from the pool: LISTEN state must outlive any one request."""
    return await asyncpg.connect(
        url, timeout=10, command_timeout=10, server_settings={"application_name": LISTENER_NAME}
    )
