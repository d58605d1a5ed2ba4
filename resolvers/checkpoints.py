"""C2SP signed notes for the transparency log: checkpoints (tlog-checkpoint) signed with Ed25519."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_ED25519 = b"\x01"  # the signed-note signature type of Ed25519
_DASH = "\u2014"  # a signature line starts with an em dash


class NoteError(ValueError):
    """A note, key or checkpoint that does not parse or does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root_hash).decode()}\n"


@dataclass(frozen=True, slots=True)
class VerifierKey:
    name: str
    public: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, _raw(self.public))

    def text(self) -> str:
        encoded = base64.b64encode(_ED25519 + _raw(self.public)).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def key_id(name: str, raw_public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + raw_public).digest()[:4]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(checkpoint: Checkpoint, private: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note, signed by a key named after the log's origin."""
    body = checkpoint.body()
    raw = _raw(private.public_key())
    signature = key_id(checkpoint.origin, raw) + private.sign(body.encode())
    return f"{body}\n{_DASH} {checkpoint.origin} {base64.b64encode(signature).decode()}\n"


def parse_verifier_key(text: str) -> VerifierKey:
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as error:
        raise NoteError("not a signed-note verifier key (name+keyid+base64)") from error
    if raw[:1] != _ED25519 or len(raw) != 33:
        raise NoteError("not an Ed25519 verifier key")
    key = VerifierKey(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
    if key.key_id.hex() != hex_id:
        raise NoteError("the verifier key's id does not match its name and key")
    return key


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint a note states, once a signature by `key` over its body verifies."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not body:
        raise NoteError("not a signed note (no blank line before the signatures)")
    body += "\n"
    if not any(_signed_by(line, key, body) for line in signatures.splitlines()):
        raise NoteError(f"no valid signature by {key.name} on the checkpoint")
    return _parse_body(body, key.name)


def _signed_by(line: str, key: VerifierKey, body: str) -> bool:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != _DASH or parts[1] != key.name:
        return False
    try:
        signature = base64.b64decode(parts[2], validate=True)
    except ValueError:
        return False
    if signature[:4] != key.key_id:
        return False
    try:
        key.public.verify(signature[4:], body.encode())
    except InvalidSignature:
        return False
    return True


def _parse_body(body: str, origin: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[0] != origin:
        raise NoteError(f"the checkpoint's origin is not {origin}")
    size = lines[1]
    if not (size.isascii() and size.isdigit()) or (size.startswith("0") and size != "0"):
        raise NoteError("the checkpoint's tree size is not a decimal number")
    try:
        root_hash = base64.b64decode(lines[2], validate=True)
    except ValueError as error:
        raise NoteError("the checkpoint's root hash is not base64") from error
    if len(root_hash) != 32:
        raise NoteError("the checkpoint's root hash is not 32 bytes")
    return Checkpoint(origin, int(lines[1]), root_hash)
