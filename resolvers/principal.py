"""Who is calling: the authenticated principal and the scopes that decide what it may see and change."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

READ = "fir:read"
PUBLISH = "fir:publish"
ADMIN = "fir:admin"


@dataclass(frozen=True)
class Principal:
    """Frozen; what its scopes decide is computed once per principal (cached_property writes to the
    instance dict, past the frozen __setattr__): visibility asks it for every row it filters."""

    subject: str | None = None
    scopes: frozenset[str] = frozenset()
    manufacturers: frozenset[str] = frozenset()
    organisation: str | None = None
    client_id: str | None = None
    claims: dict[str, object] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def anonymous(self) -> bool:
        return self.subject is None

    @cached_property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    @cached_property
    def can_read(self) -> bool:
        """Sees the whole published FIR: any SEC Party with fir:read, and SECAS (fir:publish alone does not)."""
        return bool(self.scopes & {READ, ADMIN})

    @cached_property
    def publishes_for(self) -> frozenset[str]:
        """Manufacturer identifiers whose releases this caller may write and whose drafts it may see."""
        return self.manufacturers if PUBLISH in self.scopes else frozenset()

    @property
    def visibility_key(self) -> str:
        """What decides what this caller is answered, and nothing else: the response cache partitions
        on it. The fir scopes and the manufacturers published for decide the rows; whether there is a
        token at all decides introspection (FIR_INTROSPECTION=authenticated) and the input caps, so a
        valid token without fir scopes never shares an entry with an anonymous caller."""
        relevant = sorted(self.scopes & {READ, PUBLISH, ADMIN})
        caller = "anonymous" if self.anonymous else "token"
        return caller + "|" + " ".join(relevant) + "|" + ",".join(sorted(self.publishes_for))

    @property
    def actor(self) -> str:
        return self.subject or "anonymous"


ANONYMOUS = Principal()
