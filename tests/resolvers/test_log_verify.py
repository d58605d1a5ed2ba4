"""`fir verify answer`: a record's proof must be a leaf of the record's own type, not any leaf in the log."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from resolvers import merkle
from resolvers.checkpoints import Checkpoint, VerifierKey, sign
from resolvers.log_leaves import contacts_leaf
from resolvers.log_verify import check_answer

SIGNER = Ed25519PrivateKey.generate()
KEY = VerifierKey("fir-graph/log", SIGNER.public_key())


def proven(leaf: bytes) -> dict[str, object]:
    """The proof of the only leaf of a one-leaf log, as the graph serves it."""
    note = sign(Checkpoint("fir-graph/log", 1, merkle.leaf_hash(leaf)), SIGNER)
    return {"leafIndex": 0, "treeSize": 1, "leaf": leaf.decode(), "inclusionPath": [], "checkpoint": note}


def test_a_contacts_leaf_does_not_prove_a_release_or_an_entry() -> None:
    proof = proven(contacts_leaf("106C", []))  # genuine and signed, but says nothing of an image hash
    release = {"id": "7", "manufacturerId": "106C", "imageHash": "F0" * 32, "proof": proof}
    entry = {"number": 3, "manufacturerId": "106C", "imageHash": "F0" * 32, "proof": proof}
    assert check_answer(KEY, {"data": {"release": release, "cplEntry": entry}}) == (
        2,
        [
            "answer.data.release (release 7): the signed log's leaf is of type 'contacts', not 'release'",
            "answer.data.cplEntry (CPL entry 3): the signed log's leaf is of type 'contacts', not 'cpl_entry'",
        ],
    )
