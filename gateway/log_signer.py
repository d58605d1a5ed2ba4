"""The log's signing key (FIR_LOG_SIGNING_KEY, a key file, or a development key) and the checkpoint loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from gateway.auth.dev_issuer import create_private_file
from gateway.settings import Settings
from loaders.db import Db
from resolvers import transparency
from resolvers.checkpoints import VerifierKey

log = logging.getLogger("fir.log")


def dev_key_path(settings: Settings) -> Path:
    return settings.data_dir / "tlog" / "signing-key.pem"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The configured key (PKCS#8 PEM), else the development key under FIR_DATA_DIR, made on first use."""
    if settings.log_signing_key is not None:
        return load_key(str(settings.log_signing_key).encode())
    path = settings.log_signing_key_file or dev_key_path(settings)
    if settings.log_signing_key_file is None and generate_key_file(path):
        log.warning(
            "generated a development log signing key at %s; configure FIR_LOG_SIGNING_KEY in production", path
        )
    return load_key(path.read_bytes())


def generate_key_file(path: Path) -> bool:
    """A new Ed25519 key (PKCS#8 PEM, owner-only) at `path` unless one is there; True if it made one."""
    if path.exists():
        return False
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    create_private_file(path, pem.decode())
    return True


def load_key(pem: bytes) -> Ed25519PrivateKey:
    key = load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError("the log signing key must be an Ed25519 private key (PKCS#8 PEM)")
    return key


def verifier_key(settings: Settings, key: Ed25519PrivateKey) -> VerifierKey:
    return VerifierKey(settings.log_origin, key.public_key())


class CheckpointSigner:
    """Every few seconds, signs a checkpoint if the log grew (at most one replica at a time)."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, key: Ed25519PrivateKey) -> None:
        self._settings, self._db, self._key = settings, Db(pool), key
        self._task: asyncio.Task[None] | None = None

    async def sign_now(self) -> None:
        row = await transparency.sign_checkpoint(self._db, self._settings.log_origin, self._key)
        if row is not None:
            log.info("signed checkpoint of tree size %d", row.tree_size)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.sign_now()
            except asyncpg.LockNotAvailableError:  # a write transaction is open (loaders.tlog)
                log.info("a write in progress holds the data version; signing at the next turn")
            except (OSError, asyncpg.PostgresError):
                log.warning("signing a checkpoint failed; retrying", exc_info=True)
            await asyncio.sleep(self._settings.log_checkpoint_interval)
