"""GraphQL types of the transparency log: a fact's inclusion proof and a consistency proof."""

from __future__ import annotations

import base64

import strawberry

from resolvers.log_proofs import ConsistencyProof, Proof
from schema.sizes import LOG_PATH


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@strawberry.type(
    description="Proof that a fact is a leaf of the signed transparency log (README: Verifying FIR data)."
)
class LogProof:
    leaf_index: int = strawberry.field(description="The leaf's index, from 0.")
    tree_size: int = strawberry.field(description="The size of the tree of the checkpoint.")
    leaf: str = strawberry.field(description="The leaf, canonical JSON (hashed as SHA-256(0x00 || leaf)).")
    inclusion_path: list[str] = strawberry.field(
        directives=[LOG_PATH], description="RFC 9162 inclusion path, base64 hashes, leaf side first."
    )
    checkpoint: str = strawberry.field(
        description="The signed checkpoint (C2SP signed note) it proves against."
    )

    @classmethod
    def from_proof(cls, p: Proof) -> LogProof:
        return cls(
            leaf_index=p.leaf_index,
            tree_size=p.tree_size,
            leaf=p.leaf.decode(),
            inclusion_path=_b64(p.inclusion_path),
            checkpoint=p.checkpoint,
        )


@strawberry.type(description="Proof that the log of one size extends the log of a smaller size (RFC 9162).")
class LogConsistency:
    from_size: int = strawberry.field(name="from")
    to_size: int = strawberry.field(name="to")
    path: list[str] = strawberry.field(directives=[LOG_PATH], description="Base64 hashes.")
    checkpoint: str = strawberry.field(description="The newest signed checkpoint; `to` is at most its size.")

    @classmethod
    def from_proof(cls, p: ConsistencyProof) -> LogConsistency:
        return cls(from_size=p.from_size, to_size=p.to_size, path=_b64(p.path), checkpoint=p.checkpoint)
