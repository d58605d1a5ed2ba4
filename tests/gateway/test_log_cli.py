"""`fir log keygen`: one signing key for every replica, made once and never replaced."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.log_signer import signing_key
from gateway.settings import load_settings


def keygen(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["log", "keygen", str(path)])
    return result.exit_code, result.stdout


def test_keygen_makes_an_owner_only_key_that_serve_then_signs_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys" / "log-signing-key.pem"
    code, printed = keygen(path)
    assert code == 0, printed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert printed.startswith("fir-graph/log+")  # the verifier key GET /log/public-key serves
    monkeypatch.setenv("FIR_LOG_SIGNING_KEY_FILE", str(path))
    monkeypatch.setenv("FIR_DATA_DIR", str(tmp_path / "data"))
    key = signing_key(load_settings(None))
    assert key.public_key().public_bytes_raw() == _raw_public(printed)
    assert not (tmp_path / "data" / "tlog").exists()  # no development key beside the configured one


def test_keygen_keeps_an_existing_key(tmp_path: Path) -> None:
    path = tmp_path / "log-signing-key.pem"
    assert keygen(path)[0] == 0
    first = path.read_bytes()
    code, printed = keygen(path)
    assert code == 0 and path.read_bytes() == first
    assert keygen(path)[1] == printed


def test_keygen_refuses_a_file_that_is_not_an_ed25519_key(tmp_path: Path) -> None:
    path = tmp_path / "not-a-key.pem"
    path.write_text("hello\n")
    code, _ = keygen(path)
    assert code == 1 and path.read_text() == "hello\n"


def _raw_public(verifier_key: str) -> bytes:
    """name+keyid+base64(0x01 || key): the base64 may itself hold '+'."""
    return base64.b64decode(verifier_key.strip().split("+", 2)[2])[1:]


def test_fir_loads_and_names_the_actor_where_the_uid_has_no_login_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docker --user 12345: no passwd entry, no USER/LOGNAME; getpass.getuser raises."""
    import getpass
    import importlib
    import os

    from gateway import log_cli

    def no_login_name() -> str:
        raise KeyError("getpwuid(): uid not found: 12345")

    monkeypatch.setattr(getpass, "getuser", no_login_name)
    try:
        reloaded = importlib.reload(log_cli)  # the option's default was computed here, at import
        assert reloaded.default_actor() == f"cli:uid{os.getuid()}"
    finally:
        monkeypatch.undo()
        importlib.reload(log_cli)
    assert log_cli.default_actor() == f"cli:{getpass.getuser()}"
