"""An independent FIR log verifier: hashlib, base64, json and cryptography only, none of the gateway's code.

It is written from the README's "Verifying FIR data" and RFC 9162 / C2SP alone, so it proves a supplier
can implement the format. Usage: `python standalone.py KEY CHECKPOINT LEAF_JSON PROOF_JSON`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def open_note(note: str, vkey: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint signed by the key `name+hexid+base64(0x01||key)`."""
    name, key_hex, key_b64 = vkey.strip().split("+", 2)
    raw = base64.b64decode(key_b64)
    assert raw[0] == 1 and h(name.encode() + b"\n" + raw)[:4].hex() == key_hex, "bad verifier key"
    text, signatures = note.split("\n\n", 1)
    text += "\n"
    ok = False
    for line in signatures.splitlines():
        dash, signer, sig_b64 = line.split(" ")
        sig = base64.b64decode(sig_b64)
        if dash == "\u2014" and signer == name and sig[:4].hex() == key_hex:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[4:], text.encode())  # raises if bad
            ok = True
    assert ok, "no signature by the key"
    origin, size, root = text.split("\n")[:3]
    assert origin == name
    return origin, int(size), base64.b64decode(root)


def inclusion_ok(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, h(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = h(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = h(b"\x01" + r + p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def consistency_ok(m: int, n: int, old: bytes, new: bytes, path: list[bytes]) -> bool:
    if m == n:
        return old == new and not path
    if m == 0 or m > n or not path:
        return False
    if m & (m - 1) == 0:
        path = [old, *path]
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = h(b"\x01" + c + fr), h(b"\x01" + c + sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = h(b"\x01" + sr + c)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and fr == old and sr == new


def canonical_leaf(fields: dict[str, object]) -> bytes:
    """The README's leaf encoding: UTF-8 JSON, keys sorted, no whitespace, non-ASCII as is."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962's tree hash over leaf hashes (already hashed): split at the largest power of two below n."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return h(b"\x01" + mth(hashes[:k]) + mth(hashes[k:]))


def tile_path(level: str, n: int, width: int) -> str:
    """C2SP tlog-tiles: tile/<L>/<N>[.p/<W>], N in 3-digit elements, all but the last with an x."""
    digits = str(n).zfill(-(-len(str(n)) // 3) * 3)
    elements = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    name = "/".join(["x" + e for e in elements[:-1]] + elements[-1:])
    return f"tile/{level}/{name}" + (f".p/{width}" if width < 256 else "")


def bundle(data: bytes) -> list[bytes]:
    """An entry bundle: each entry a big-endian uint16 length, then its bytes."""
    out, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i : i + 2], "big")
        out.append(data[i + 2 : i + 2 + n])
        i += 2 + n
    return out


def tiles_ok(get: Callable[[str], bytes], size: int, root: bytes) -> bool:
    """The level-0 tiles and entry bundles of a tree of `size` leaves hash to `root`, and level 1 agrees."""
    leaves: list[bytes] = []
    hashes: list[bytes] = []
    for n in range(-(-size // 256)):
        width = min(256, size - n * 256)
        tile = get(tile_path("0", n, width))
        hashes += [tile[i : i + 32] for i in range(0, len(tile), 32)]
        leaves += bundle(get(tile_path("entries", n, width)))
    level1 = [] if size < 256 else get(tile_path("1", 0, min(256, size // 256)))
    subtrees = [mth(hashes[i * 256 : (i + 1) * 256]) for i in range(size // 256)]
    return (
        len(hashes) == len(leaves) == size
        and [h(b"\x00" + x) for x in leaves] == hashes
        and [level1[i : i + 32] for i in range(0, len(level1), 32)] == subtrees[:256]
        and mth(hashes) == root
    )


def main(argv: list[str]) -> int:
    vkey, note, leaf_file, proof_file = (Path(a).read_text(encoding="utf-8") for a in argv[1:5])
    _, size, root = open_note(note, vkey)
    proof = json.loads(proof_file)
    leaf = canonical_leaf(json.loads(leaf_file))
    path = [base64.b64decode(p) for p in proof.get("inclusionPath", proof.get("path", []))]
    ok = proof["treeSize"] == size and inclusion_ok(proof["leafIndex"], size, leaf, path, root)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
