"""Offline checks with only the log's public key: a newer checkpoint against a stored one, a saved proof."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from resolvers import merkle
from resolvers.checkpoints import Checkpoint, NoteError, VerifierKey, open_checkpoint


def check_growth(
    key: VerifierKey, stored_note: str, new_note: str, proof: Mapping[str, Any] | None
) -> list[str]:
    """Problems (none: the log only grew) between a checkpoint the client stored and a newer one."""
    try:
        old, new = open_checkpoint(stored_note, key), open_checkpoint(new_note, key)
    except NoteError as error:
        return [str(error)]
    if new.tree_size < old.tree_size:
        return [
            f"the new checkpoint (size {new.tree_size}) is older than the stored one (size {old.tree_size}): replayed"
        ]
    if new.tree_size == old.tree_size:
        return (
            []
            if new.root_hash == old.root_hash
            else [f"two different trees of size {new.tree_size}: the log forked"]
        )
    return _consistent(old, new, proof)


def _consistent(old: Checkpoint, new: Checkpoint, proof: Mapping[str, Any] | None) -> list[str]:
    if proof is None:
        return [f"a consistency proof from {old.tree_size} to {new.tree_size} is needed"]
    if (proof.get("from"), proof.get("to")) != (old.tree_size, new.tree_size):
        return [f"the proof is not from {old.tree_size} to {new.tree_size}"]
    path = hashes(proof.get("path"))
    if path is None or not merkle.verify_consistency(
        old.tree_size, new.tree_size, old.root_hash, new.root_hash, path
    ):
        return [f"the log of size {new.tree_size} does not extend the stored one of size {old.tree_size}"]
    return []


def check_inclusion(key: VerifierKey, proof: Mapping[str, Any], leaf: bytes) -> str | None:
    """A problem with one saved proof (its checkpoint note, index, path), or None when `leaf` is in the log."""
    try:
        checkpoint = open_checkpoint(str(proof.get("checkpoint", "")), key)
    except NoteError as error:
        return str(error)
    index, size, path = proof.get("leafIndex"), proof.get("treeSize"), hashes(proof.get("inclusionPath"))
    if not isinstance(index, int) or size != checkpoint.tree_size or path is None:
        return "the proof does not match its checkpoint"
    if not merkle.verify_inclusion(index, size, merkle.leaf_hash(leaf), path, checkpoint.root_hash):
        return f"leaf {index} is not in the signed log of size {size}"
    return None


def hashes(value: object) -> list[bytes] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    try:
        decoded = [base64.b64decode(v, validate=True) for v in value]
    except ValueError:
        return None
    return decoded if all(len(d) == 32 for d in decoded) else None
