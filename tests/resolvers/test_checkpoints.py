"""Signed checkpoints: a note whose signature verifies still states its size in ASCII decimal only."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from resolvers.checkpoints import Checkpoint, NoteError, VerifierKey, open_checkpoint, sign

ORIGIN = "fir-graph/log"


def test_a_signed_size_in_other_digits_is_not_a_size() -> None:
    """int() reads Arabic-Indic digits; C2SP's checkpoint size is ASCII decimal, and a verifier that
    took `٣` for 3 would accept a second spelling of a signed tree."""
    private = Ed25519PrivateKey.generate()
    key = VerifierKey(ORIGIN, private.public_key())
    good = sign(Checkpoint(ORIGIN, 3, b"\x01" * 32), private)
    assert open_checkpoint(good, key).tree_size == 3
    root = base64.b64encode(b"\x01" * 32).decode()
    body = f"{ORIGIN}\n\u0663\n{root}\n"
    signature = key.key_id + private.sign(body.encode())
    forged = f"{body}\n\u2014 {ORIGIN} {base64.b64encode(signature).decode()}\n"
    with pytest.raises(NoteError, match="not a decimal number"):
        open_checkpoint(forged, key)
