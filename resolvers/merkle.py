"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs over stored complete subtrees.

A stored node (level, index) is the hash of the complete subtree of 2**level leaves starting at
leaf index * 2**level (level 0: the leaf hashes). Every proof below names the nodes it needs first
(`*_nodes`), so a caller reads them in one statement (O(log n) rows) and then computes the proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

Node = tuple[int, int]  # (level, index)


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees covering leaves [start, end) of a subtree that starts at `start`.

    `start` is aligned to a power of two at least `end - start` (true of every range a proof asks),
    so the range is that many complete subtrees, largest first.
    """
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_hash(start: int, end: int, stored: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]): right-fold the covering complete subtrees (RFC 6962 section 2.1)."""
    hashes = [stored[n] for n in range_nodes(start, end)]
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The sibling ranges of RFC 6962 PATH(index, D[0:size]), leaf side first."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The ranges of RFC 6962 PROOF(old, D[0:new]) (SUBPROOF with b = true), in proof order."""
    ranges: list[tuple[int, int]] = []
    start, end, m, whole = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    return list(reversed(ranges))


def inclusion_nodes(index: int, size: int) -> set[Node]:
    return {n for a, b in _inclusion_ranges(index, size) for n in range_nodes(a, b)}


def consistency_nodes(old: int, new: int) -> set[Node]:
    if old <= 0 or old >= new:
        return set()
    return {n for a, b in _consistency_ranges(old, new) for n in range_nodes(a, b)}


def root_nodes(size: int) -> set[Node]:
    return set(range_nodes(0, size))


def inclusion_proof(index: int, size: int, stored: Mapping[Node, bytes]) -> list[bytes]:
    return [range_hash(a, b, stored) for a, b in _inclusion_ranges(index, size)]


def consistency_proof(old: int, new: int, stored: Mapping[Node, bytes]) -> list[bytes]:
    if old <= 0 or old >= new:
        return []
    return [range_hash(a, b, stored) for a, b in _consistency_ranges(old, new)]


def root(size: int, stored: Mapping[Node, bytes]) -> bytes:
    return hashlib.sha256(b"").digest() if size == 0 else range_hash(0, size, stored)


def new_nodes(size: int, frontier: Mapping[Node, bytes], hashes: Sequence[bytes]) -> dict[Node, bytes]:
    """The nodes that appending `hashes` to a tree of `size` leaves completes (leaves included).

    `frontier` holds the complete subtrees on the tree's right edge (`frontier_nodes(size)`).
    """
    known = dict(frontier)
    made: dict[Node, bytes] = {}
    for offset, h in enumerate(hashes):
        index, level = size + offset, 0
        known[(0, index)] = made[(0, index)] = h
        while index & 1:
            h = node_hash(known[(level, index - 1)], h)
            index, level = index >> 1, level + 1
            known[(level, index)] = made[(level, index)] = h
    return made


def frontier_nodes(size: int) -> set[Node]:
    """The largest complete subtrees of a tree of `size` leaves: all an append needs."""
    return set(range_nodes(0, size))


# --- verification (what a client does; the tests' independent verifier re-implements it) --------


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if old == new:
        return old_root == new_root and not proof
    if old == 0 or old > new or not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
