"""Offline checks with only the log's public key: a newer checkpoint against a stored one, a saved answer."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson

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


# What a graph answer says (camelCase) and what the leaf states (snake_case), for the facts both carry.
_ANSWER_FIELDS = {
    "id": "id",
    "number": "number",
    "manufacturerId": "manufacturer_id",
    "modelId": "model_id",
    "hardwareVersion": "hardware_version",
    "firmwareVersion": "firmware_version",
    "version": "firmware_version",
    "imageHash": "image_hash",
    "status": "status",
    "cplEntryNumber": "cpl_entry_number",
    "upgradableFromVersions": "upgradable_from",
}


def check_answer(key: VerifierKey, answer: object) -> tuple[int, list[str]]:
    """Every object of a saved answer that carries a `proof`: the leaf is in the signed log, and agrees.

    Returns how many objects were checked and the problems, each naming where in the answer it is.
    """
    problems: list[str] = []
    checked = 0
    for where, obj in _with_proofs(answer, "answer"):
        checked += 1
        problems += _check_object(key, where, obj)
    return checked, problems


def _with_proofs(value: object, where: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(value, dict):
        if "proof" in value:
            found.append((where, value))
        for k, v in value.items():
            if k != "proof":
                found += _with_proofs(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _with_proofs(v, f"{where}[{i}]")
    return found


def _check_object(key: VerifierKey, where: str, obj: Mapping[str, Any]) -> list[str]:
    name = _name(obj)
    proof = obj.get("proof")
    if not isinstance(proof, Mapping) or not isinstance(proof.get("leaf"), str):
        return [f"{where} ({name}): no proof in the answer"]
    leaf_text = str(proof["leaf"])
    problem = check_inclusion(key, proof, leaf_text.encode())
    if problem is not None:
        return [f"{where} ({name}): {problem}"]
    leaf = orjson_loads(leaf_text)
    kinds = _KINDS.get(next((k for k in _KINDS if k in obj), ""), ("cpl_entry", "release"))
    if leaf.get("type") not in kinds:
        return [f"{where} ({name}): the signed log's leaf is of type {leaf.get('type')!r}, not {kinds[0]!r}"]
    return [f"{where} ({name}): {p}" for p in disagreements(obj, leaf)]


# The leaf type an answer's object must be proven by: a CPL entry has a `number`, a release an `id`.
_KINDS = {"number": ("cpl_entry",), "id": ("release",)}


def disagreements(obj: Mapping[str, Any], leaf: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for answer_key, leaf_key in _ANSWER_FIELDS.items():
        if answer_key not in obj or leaf_key not in leaf:
            continue
        said, logged = _comparable(obj[answer_key]), _comparable(leaf[leaf_key])
        if said != logged:
            found.append(f"{answer_key} is {obj[answer_key]!r} but the signed log says {leaf[leaf_key]!r}")
    return found


def _comparable(value: object) -> object:
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    return None if value is None else str(value)


def _name(obj: Mapping[str, Any]) -> str:
    if "number" in obj:
        return f"CPL entry {obj['number']}"
    if "id" in obj:
        return f"release {obj['id']}"
    return "record"


def orjson_loads(text: str) -> Mapping[str, Any]:
    loaded = orjson.loads(text)
    return loaded if isinstance(loaded, dict) else {}
