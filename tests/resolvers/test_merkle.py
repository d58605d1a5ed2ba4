"""RFC 6962 hashing and proofs from stored complete subtrees, checked against the RFC's recursive definitions."""

from __future__ import annotations

import hashlib

import pytest

from resolvers import merkle


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, literally (over leaf hashes)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return merkle.node_hash(mth(hashes[:k]), mth(hashes[k:]))


def path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if m < k:
        return [*path(m, hashes[:k]), mth(hashes[k:])]
    return [*path(m - k, hashes[k:]), mth(hashes[:k])]


def subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [mth(hashes)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, hashes[:k], whole), mth(hashes[k:])]
    return [*subproof(m - k, hashes[k:], False), mth(hashes[:k])]


LEAVES = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(40)]
STORED = merkle.new_nodes(0, {}, LEAVES)


def test_hashing_is_rfc_6962() -> None:
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    # RFC 6962's empty tree, and the well-known root of the CT test vectors' first leaf (empty leaf)
    assert merkle.root(0, {}).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


@pytest.mark.parametrize("size", range(1, 41))
def test_roots_and_inclusion_proofs_match_the_definition(size: int) -> None:
    root = mth(LEAVES[:size])
    assert merkle.root(size, STORED) == root
    for m in range(size):
        proof = merkle.inclusion_proof(m, size, STORED)
        assert proof == path(m, LEAVES[:size])
        assert merkle.verify_inclusion(m, size, LEAVES[m], proof, root)
        assert not merkle.verify_inclusion(m, size, merkle.leaf_hash(b"other"), proof, root)


@pytest.mark.parametrize("new", range(1, 41))
def test_consistency_proofs_match_the_definition(new: int) -> None:
    for old in range(1, new + 1):
        proof = merkle.consistency_proof(old, new, STORED)
        assert proof == (subproof(old, LEAVES[:new], True) if old < new else [])
        assert merkle.verify_consistency(old, new, mth(LEAVES[:old]), mth(LEAVES[:new]), proof)


def test_a_changed_or_dropped_leaf_fails_consistency() -> None:
    forged = [*LEAVES[:5], merkle.leaf_hash(b"forged"), *LEAVES[6:20]]
    proof = merkle.consistency_proof(8, 20, merkle.new_nodes(0, {}, forged))
    assert not merkle.verify_consistency(8, 20, mth(LEAVES[:8]), mth(forged), proof)
    dropped = LEAVES[:3] + LEAVES[4:21]
    proof = merkle.consistency_proof(8, 20, merkle.new_nodes(0, {}, dropped))
    assert not merkle.verify_consistency(8, 20, mth(LEAVES[:8]), mth(dropped), proof)


def test_appending_in_batches_builds_the_same_nodes() -> None:
    stored: dict[merkle.Node, bytes] = {}
    size = 0
    for batch in (1, 2, 5, 3, 8, 1, 20):
        frontier = {n: stored[n] for n in merkle.frontier_nodes(size)}
        stored.update(merkle.new_nodes(size, frontier, LEAVES[size : size + batch]))
        size += batch
    assert stored == STORED


def test_a_proof_reads_logarithmically_many_nodes() -> None:
    size = 1_000_000
    assert len(merkle.inclusion_nodes(123_457, size)) <= 2 * 20
    assert len(merkle.consistency_nodes(654_321, size)) <= 2 * 20
